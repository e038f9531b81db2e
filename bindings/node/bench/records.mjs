// A deterministic generator, so every run (and the Python bench) sees the same data shape.
let seed = 42
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
const word = () => Math.floor(rnd() * 1e9).toString(36)

export function record(i) {
  return {
    id: `component-${i}`,
    name: `Button ${word()}`,
    updatedAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    version: i % 17,
    weight: rnd() * 1000,
    enabled: i % 3 === 0,
    tags: [word(), word(), word(), 'design-system'],
    variants: Array.from({ length: 6 }, (_, k) => ({ size: ['xs', 'sm', 'md', 'lg', 'xl', 'xxl'][k], figmaNodeId: `${i}:${k}`, padding: [4 * k, 8 * k], label: `Label ${word()} ${word()}` })),
    description: `Primary action ${word()} ${word()} ${word()} with unicode é ü 漢字; shown in forms, dialogs and toolbars.`,
    meta: { owner: word(), reviewed: null, score: Math.round(rnd() * 100) / 10 },
  }
}
