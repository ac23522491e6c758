/**
 * The benches' one argument parser: `--name N` or `--name=N` integer options, each within its
 * [min, max], over `defaults`.
 * @throws Error naming the bench's usage for an unknown argument, or the option and its range for a bad value.
 */
export function integerArgs<T extends Record<string, number>>(argv: readonly string[], bench: string, defaults: T, limits: { [K in keyof T]: readonly [number, number] }): T {
  const args = { ...defaults };
  const names = Object.keys(defaults);
  const usage = `usage: ${bench} ${names.map((n) => `[--${n} N]`).join(' ')}`;
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]!);
    if (!m || !names.includes(m[1]!)) throw new Error(`unknown argument ${JSON.stringify(argv[i])}; ${usage}`);
    const name = m[1] as keyof T;
    const raw = m[2] ?? argv[++i];
    const value = Number(raw);
    const [min, max] = limits[name];
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${String(name)} must be an integer in ${min}..${max}, got ${JSON.stringify(raw)}`);
    args[name] = value as T[keyof T];
  }
  return args;
}
