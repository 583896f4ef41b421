// The "Figures:" section that ends the store and scale reports: one PASS / MISS / NOT RUN line per
// figure ({ title, value, display, target, pass, why }), worded the same in both.
export function figuresSection(results) {
  return [
    'Figures:',
    '',
    ...results.figures.map((f) =>
      f.value === null
        ? `- NOT RUN — ${f.title} (${f.why})`
        : `- ${f.pass ? 'PASS' : 'MISS'} — ${f.title}: ${f.display} (target ${f.target})`,
    ),
    '',
  ];
}
