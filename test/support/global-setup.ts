import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// Some tests run the built package in child processes (as users and `npm start` do). `npm test`
// builds first; a direct `npx vitest` run builds here when dist/ is missing.
export default function setup(): void {
  if (!existsSync('dist/index.js'))
    execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
