import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';

// expectTypeOf and @ts-expect-error only mean something to the compiler: compile the type-level
// tests (and the example bot people copy) here so `vitest run test/flow` fails on a type error.
it('the flow type tests and the lead-gen example type-check', () => {
  const file = (path: string) => fileURLToPath(new URL(path, import.meta.url));
  const parsed = ts.getParsedCommandLineOfConfigFile(file('../../tsconfig.test.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error('tsconfig.test.json did not parse');
  const program = ts.createProgram([file('./types.test.ts'), file('../../examples/lead-gen/bot.ts')], {
    ...parsed.options,
    noEmit: true,
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  expect(problems).toEqual([]);
}, 120_000);
