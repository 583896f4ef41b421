// The simulator page's script, plain ES5-style JavaScript kept as a string (no bundler; tsc ships
// it). Everything user-controlled is written with textContent, never innerHTML: bot replies and
// profile names are data, not markup. No backticks or template placeholders below (String.raw).
export const SCRIPT = String.raw`
(function () {
  'use strict';
  var KEY = 'chatstate.simulator.users';
  var $ = function (id) { return document.getElementById(id); };
  var users = loadUsers();
  var current = null;
  var seen = {};
  var unread = {};
  var view = null;
  var viewAt = 0;
  var refreshTimer = null;
  var statusTimer = null;

  function loadUsers() {
    try {
      var u = JSON.parse(localStorage.getItem(KEY) || '[]');
      if (Array.isArray(u) && u.length) return u;
    } catch (e) { /* a broken entry falls back to the default user */ }
    return [{ number: '15550001001', name: 'Ada' }];
  }
  function saveUsers() { localStorage.setItem(KEY, JSON.stringify(users)); }
  function find(number) {
    for (var i = 0; i < users.length; i++) if (users[i].number === number) return users[i];
    return null;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function showError(message) {
    $('status').textContent = message;
    clearTimeout(statusTimer);
    statusTimer = setTimeout(function () { $('status').textContent = ''; }, 8000);
  }
  function describe(r) {
    var e = r && r.error;
    if (!e) return 'the webhook refused the message (HTTP ' + (r && r.status) + ')';
    return (e.code || 'error') + ': ' + (e.message || '');
  }
  function getJson(url) {
    return fetch(url, { cache: 'no-store' }).then(function (res) {
      if (!res.ok) throw new Error(url + ' answered ' + res.status);
      return res.json();
    });
  }

  function renderUsers() {
    var list = $('users');
    list.textContent = '';
    users.forEach(function (u) {
      var b = el('button', 'user' + (u.number === current ? ' active' : ''));
      b.type = 'button';
      b.setAttribute('data-number', u.number);
      b.appendChild(el('span', 'user-name', u.name));
      b.appendChild(el('span', 'user-number', '+' + u.number));
      if (unread[u.number]) b.appendChild(el('span', 'badge', String(unread[u.number])));
      b.onclick = function () { select(u.number); };
      list.appendChild(b);
    });
  }

  function select(number) {
    var u = find(number);
    if (!u) return;
    current = number;
    unread[number] = 0;
    seen = {};
    $('messages').textContent = '';
    $('chat-title').textContent = u.name + ' (+' + u.number + ')';
    renderUsers();
    loadTranscript();
    refreshSession();
    $('text').focus();
  }

  function loadTranscript() {
    var number = current;
    getJson('/simulator/messages?user=' + encodeURIComponent(number)).then(function (r) {
      if (number === current) r.items.forEach(addItem);
    }).catch(function (e) { showError(String(e.message || e)); });
  }

  // Bubbles are kept in server time order, whatever order the stream and the transcript arrive in.
  function insert(b) {
    var box = $('messages');
    var at = Number(b.getAttribute('data-at'));
    var kids = box.children;
    var i = kids.length - 1;
    while (i >= 0 && Number(kids[i].getAttribute('data-at')) > at) i--;
    box.insertBefore(b, i >= 0 ? kids[i].nextSibling : box.firstChild);
    box.scrollTop = box.scrollHeight;
  }
  function stamp(b, at) {
    b.setAttribute('data-at', String(at));
    var d = new Date(at);
    b.appendChild(el('span', 'time', ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2)));
  }

  function addItem(item) {
    if (item.user !== current || seen[item.id]) return;
    seen[item.id] = true;
    var b = item.dir === 'in' ? inBubble(item.message) : outBubble(item);
    b.setAttribute('data-id', item.id);
    stamp(b, item.at);
    insert(b);
  }

  function inBubble(m) {
    var b = el('div', 'bubble in');
    if (m.type === 'text') b.appendChild(el('div', 'text', m.text));
    else b.appendChild(el('div', 'choice', m.title));
    return b;
  }

  function outBubble(item) {
    var m = item.message;
    var b = el('div', 'bubble out');
    b.setAttribute('data-type', m.type);
    if (m.type === 'text') {
      b.appendChild(el('div', 'text', m.text));
    } else if (m.type === 'buttons' || m.type === 'list') {
      var header = m.type === 'list' ? m.header : m.header && m.header.type === 'text' && m.header.text;
      if (header) b.appendChild(el('div', 'header', header));
      b.appendChild(el('div', 'text', m.body));
      if (m.footer) b.appendChild(el('div', 'footer', m.footer));
      b.appendChild(m.type === 'buttons' ? buttonsOf(m, item.id) : listOf(m, item.id));
    } else if (m.type === 'template') {
      b.appendChild(el('div', 'text', '[template ' + m.name + ']'));
    } else if (m.media) {
      b.appendChild(el('div', 'text', '[' + m.type + '] ' + (m.caption || m.media.link || m.media.id || '')));
    } else {
      b.appendChild(el('div', 'text', '[' + m.type + ']'));
    }
    return b;
  }

  // Tapping a reply button sends interactive.button_reply, quoting the message it belongs to.
  function buttonsOf(m, context) {
    var row = el('div', 'actions');
    m.buttons.forEach(function (btn) {
      var x = el('button', 'reply-button', btn.title);
      x.type = 'button';
      x.setAttribute('data-id', btn.id);
      x.onclick = function () { send({ button_reply: { id: btn.id, title: btn.title }, context: context }, btn.title); };
      row.appendChild(x);
    });
    return row;
  }

  // The list's button opens its rows, as on a phone; choosing one sends interactive.list_reply.
  function listOf(m, context) {
    var wrap = el('div', 'actions');
    var open = el('button', 'list-open', m.button);
    open.type = 'button';
    var rows = el('div', 'list-rows');
    rows.hidden = true;
    open.onclick = function () { rows.hidden = !rows.hidden; };
    m.sections.forEach(function (s) {
      if (s.title) rows.appendChild(el('div', 'section-title', s.title));
      s.rows.forEach(function (r) {
        var x = el('button', 'list-row');
        x.type = 'button';
        x.setAttribute('data-id', r.id);
        x.appendChild(el('span', 'row-title', r.title));
        if (r.description) x.appendChild(el('span', 'row-desc', r.description));
        x.onclick = function () {
          rows.hidden = true;
          send({ list_reply: { id: r.id, title: r.title, description: r.description }, context: context }, r.title);
        };
        rows.appendChild(x);
      });
    });
    wrap.appendChild(open);
    wrap.appendChild(rows);
    return wrap;
  }

  // The bubble shows at once (pending); the server's answer gives it its wamid and time.
  function send(payload, title) {
    var u = find(current);
    if (!u) return;
    var body = { from: u.number, name: u.name };
    for (var k in payload) if (payload[k] !== undefined) body[k] = payload[k];
    var b = inBubble(payload.text !== undefined ? { type: 'text', text: payload.text } : { type: 'choice', title: title });
    b.classList.add('pending');
    stamp(b, Date.now());
    insert(b);
    var number = current;
    fetch('/simulator/send', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (res) { return res.json().then(function (r) { return { ok: res.ok, r: r }; }); })
      .then(function (x) {
        b.classList.remove('pending');
        if (!x.ok) { b.classList.add('failed'); showError(describe(x.r)); return; }
        b.setAttribute('data-id', x.r.id);
        b.setAttribute('data-at', String(x.r.at));
        if (number === current) seen[x.r.id] = true;
        refreshSoon();
      })
      .catch(function (e) { b.classList.add('failed'); showError(String(e.message || e)); });
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshSession, 120);
  }
  function refreshSession() {
    var number = current;
    if (!number) return;
    getJson('/simulator/session/' + encodeURIComponent(number)).then(function (v) {
      if (number === current) renderSession(v);
    }).catch(function (e) { showError(String(e.message || e)); });
  }
  function text(id, value) { $(id).textContent = value === null || value === undefined ? '-' : String(value); }
  function renderSession(v) {
    view = v;
    viewAt = Date.now();
    var s = v.found ? v.session : null;
    $('s-state').textContent = s ? '' : 'No session: send a message to start one.';
    text('s-flow', s && s.flow);
    text('s-node', s && s.node);
    text('s-prev', s && s.prevNode);
    text('s-retries', s && s.retries);
    text('s-version', s && s.version);
    $('s-vars').textContent = s ? JSON.stringify(s.vars, null, 2) : '';
    var h = $('s-history');
    h.textContent = '';
    (s ? s.history : []).forEach(function (e) {
      var what = e.text !== undefined ? e.text : e.media ? '[' + e.media.kind + ']' : '';
      h.appendChild(el('li', e.dir, (e.dir === 'in' ? '\u2190 ' : '\u2192 ') + what));
    });
    var o = $('s-outbox');
    o.textContent = '';
    (v.outbox || []).forEach(function (e) {
      var m = e.envelope && e.envelope.message;
      var what = m ? (m.type === 'text' ? m.text : m.body || '[' + m.type + ']') : '';
      o.appendChild(el('li', e.state, e.state + ': ' + String(what).slice(0, 60)));
    });
    tick();
  }
  // The TTL counts down between refreshes from the last answer, so the panel is live without polling hard.
  function tick() {
    if (!view || !view.found) return text('s-ttl', null);
    if (view.ttlMs === null) return text('s-ttl', 'never expires');
    var left = Math.max(0, view.ttlMs - (Date.now() - viewAt));
    var sec = Math.floor(left / 1000);
    var hms = Math.floor(sec / 3600) + 'h ' + ('0' + Math.floor((sec % 3600) / 60)).slice(-2) + 'm ' + ('0' + (sec % 60)).slice(-2) + 's';
    text('s-ttl', hms);
  }

  function connect() {
    var es = new EventSource('/simulator/events');
    es.addEventListener('ready', function () {
      $('conn').textContent = '\u25cf live';
      $('conn').className = 'conn live';
      // Whatever was sent while the stream was down is in the transcript.
      if (current) { loadTranscript(); refreshSession(); }
    });
    es.addEventListener('reply', function (e) {
      var item = JSON.parse(e.data);
      if (item.user === current) {
        addItem(item);
        refreshSoon();
      } else if (find(item.user)) {
        unread[item.user] = (unread[item.user] || 0) + 1;
        renderUsers();
      }
    });
    es.onerror = function () {
      $('conn').textContent = '\u25cf reconnecting\u2026';
      $('conn').className = 'conn';
    };
  }

  $('composer').addEventListener('submit', function (e) {
    e.preventDefault();
    var t = $('text').value.trim();
    if (!t) return;
    $('text').value = '';
    send({ text: t });
  });
  $('add-user').addEventListener('submit', function (e) {
    e.preventDefault();
    var n = $('new-number').value.replace(/[^0-9]/g, '');
    if (!/^[0-9]{6,15}$/.test(n)) return showError('A number has 6 to 15 digits, country code first, no +.');
    var name = $('new-name').value.trim() || 'User ' + n.slice(-4);
    if (!find(n)) { users.push({ number: n, name: name.slice(0, 64) }); saveUsers(); }
    $('new-number').value = '';
    $('new-name').value = '';
    select(n);
  });
  $('clear-session').addEventListener('click', function () {
    if (!current) return;
    fetch('/simulator/session/' + encodeURIComponent(current), { method: 'DELETE' })
      .then(refreshSession)
      .catch(function (e) { showError(String(e.message || e)); });
  });

  setInterval(tick, 1000);
  // Expiry and changes made elsewhere (CLI, admin API) show up without a message.
  setInterval(refreshSession, 5000);
  renderUsers();
  select(users[0].number);
  connect();
})();
`;
