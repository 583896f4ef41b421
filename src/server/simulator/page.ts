import { SCRIPT } from './script.js';

// The simulator page: one self-contained document (no external assets, no CDN), shipped by tsc as
// strings because the project has no bundler. Colours follow WhatsApp Web so the demo reads at once:
// the simulated user's messages on the right in green, the bot's on the left in white.
const STYLE = String.raw`
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111b21;background:#d1d7db;height:100vh;display:flex;flex-direction:column}
.banner{background:#fff3c4;border-bottom:1px solid #e9d58a;padding:8px 14px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
.banner code{background:#0000000d;padding:0 4px;border-radius:3px}
.conn{margin-left:auto;font-weight:600;color:#a15c00}.conn.live{color:#008069}
main{flex:1;display:grid;grid-template-columns:220px 1fr 330px;min-height:0}
aside,section{min-height:0}
h2{font-size:15px;margin:0 0 8px}h3{font-size:13px;margin:14px 0 4px;color:#54656f}
.users{background:#fff;border-right:1px solid #d1d7db;padding:12px;display:flex;flex-direction:column;gap:8px;overflow:auto}
.user{display:flex;flex-direction:column;align-items:flex-start;width:100%;text-align:left;border:0;border-radius:8px;padding:8px 10px;background:#f0f2f5;cursor:pointer;position:relative;font:inherit}
.user.active{background:#d9fdd3}.user-number{font-size:12px;color:#54656f}
.badge{position:absolute;right:8px;top:8px;background:#25d366;color:#fff;border-radius:10px;padding:0 7px;font-size:12px}
#add-user{display:flex;flex-direction:column;gap:6px;margin-top:8px;border-top:1px solid #e9edef;padding-top:10px}
input{font:inherit;padding:7px 9px;border:1px solid #d1d7db;border-radius:6px;min-width:0}
button{font:inherit;cursor:pointer}
#add-user button,#composer button,#clear-session{border:0;border-radius:6px;padding:7px 12px;background:#008069;color:#fff}
.chat{display:flex;flex-direction:column;background:#efeae2}
.chat-head{background:#f0f2f5;padding:10px 14px;font-weight:600;border-bottom:1px solid #d1d7db}
.messages{flex:1;overflow:auto;padding:14px 6%;display:flex;flex-direction:column;gap:6px}
.bubble{max-width:70%;padding:6px 9px 4px;border-radius:8px;box-shadow:0 1px .5px #0b141a21;white-space:pre-wrap;word-wrap:break-word}
.bubble.in{align-self:flex-end;background:#d9fdd3}.bubble.out{align-self:flex-start;background:#fff}
.bubble.pending{opacity:.6}.bubble.failed{background:#ffd7d7}
.bubble .header{font-weight:600}.bubble .footer{font-size:12px;color:#667781}
.bubble .choice::before{content:"\21a9  ";color:#667781}
.time{display:block;text-align:right;font-size:11px;color:#667781}
.actions{display:flex;flex-direction:column;gap:4px;margin-top:6px}
.reply-button,.list-open,.list-row{border:0;border-top:1px solid #e9edef;background:none;color:#027eb5;padding:6px;text-align:center}
.list-open::before{content:"\2630  "}
.list-rows{border-top:1px solid #e9edef;margin-top:4px}
.list-row{display:flex;flex-direction:column;align-items:flex-start;width:100%;text-align:left;color:#111b21}
.row-desc{font-size:12px;color:#667781}.section-title{font-size:12px;color:#008069;padding:6px 6px 0}
#composer{display:flex;gap:8px;padding:10px 14px;background:#f0f2f5}
#text{flex:1}
#status{min-height:0;padding:0 14px;color:#b00020;background:#f0f2f5}
#status:not(:empty){padding:6px 14px}
.panel{background:#fff;border-left:1px solid #d1d7db;padding:12px;overflow:auto}
dl{display:grid;grid-template-columns:auto 1fr;gap:3px 10px;margin:0}dt{color:#54656f}dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
pre{background:#f0f2f5;padding:8px;border-radius:6px;margin:0;font-size:12px;white-space:pre-wrap;word-break:break-all}
ol{margin:0;padding-left:20px;font-size:12px}
#s-state{color:#54656f;margin:0 0 8px}
#clear-session{margin-top:14px;background:#b3261e}
`;

const BODY = String.raw`
<header class="banner">
  <strong>chatstate &middot; local WhatsApp simulator</strong>
  <span><b>Local mode:</b> WHATSAPP_ACCESS_TOKEN is not set, so the bot's replies go to the local sink and
  appear here. Each message you send is signed on the server and posted to the real
  <code>POST /webhooks/whatsapp</code>. Never run the simulator with real credentials.</span>
  <span id="conn" class="conn">connecting&hellip;</span>
</header>
<main>
  <aside class="users">
    <h2>WhatsApp users</h2>
    <div id="users"></div>
    <form id="add-user">
      <input id="new-number" placeholder="Number, e.g. 4915112345678" inputmode="numeric" autocomplete="off">
      <input id="new-name" placeholder="Profile name" autocomplete="off">
      <button type="submit">Add user</button>
    </form>
  </aside>
  <section class="chat">
    <div class="chat-head" id="chat-title"></div>
    <div id="messages" class="messages" aria-live="polite"></div>
    <div id="status" role="alert"></div>
    <form id="composer">
      <input id="text" placeholder="Type a message" autocomplete="off" maxlength="4096">
      <button id="send" type="submit">Send</button>
    </form>
  </section>
  <aside class="panel">
    <h2>Session</h2>
    <p id="s-state"></p>
    <dl>
      <dt>flow</dt><dd id="s-flow"></dd>
      <dt>node</dt><dd id="s-node"></dd>
      <dt>previous</dt><dd id="s-prev"></dd>
      <dt>retries</dt><dd id="s-retries"></dd>
      <dt>TTL left</dt><dd id="s-ttl"></dd>
      <dt>version</dt><dd id="s-version"></dd>
    </dl>
    <h3>vars</h3><pre id="s-vars"></pre>
    <h3>history (oldest first)</h3><ol id="s-history"></ol>
    <h3>outbox (newest first)</h3><ol id="s-outbox"></ol>
    <button id="clear-session" type="button">Clear session</button>
  </aside>
</main>
`;

async function sha256(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return `'sha256-${btoa(String.fromCharCode(...digest))}'`;
}

let built: Promise<{ html: string; csp: string }> | undefined;

/**
 * The page and its Content-Security-Policy. The CSP allows exactly this inline script and style
 * (by hash) and requests to this origin only: the "no external assets" promise is enforced by
 * the browser, not just kept by hand, and injected markup could not run script.
 */
export function simulatorPage(): Promise<{ html: string; csp: string }> {
  built ??= (async () => {
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>chatstate simulator</title><style>${STYLE}</style></head><body>${BODY}<script>${SCRIPT}</script></body></html>`;
    const csp = [
      "default-src 'none'",
      `script-src ${await sha256(SCRIPT)}`,
      `style-src ${await sha256(STYLE)}`,
      "connect-src 'self'",
      'img-src data:',
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; ');
    return { html, csp };
  })();
  return built;
}
