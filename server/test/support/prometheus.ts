/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: every line
 * is a `# HELP`, a `# TYPE` or a sample of a family declared before it; anything else throws.
 */

export type Sample = { name: string; labels: Record<string, string>; value: number };
export type Family = { name: string; help: string | null; type: string | null; samples: Sample[] };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] };

/** As Prometheus reads them (Go's ParseFloat): the special values in any case (prom-client writes `Nan`). */
function parseValue(raw: string, line: string): number {
  if (/^\+?inf$/i.test(raw)) return Infinity;
  if (/^-inf$/i.test(raw)) return -Infinity;
  if (/^nan$/i.test(raw)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`bad sample value in: ${line}`);
  return Number(raw);
}

/** `{a="x",b="y\"z"}` from position `i` (at the brace); returns the labels and the position after `}`. */
function parseLabels(line: string, i: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  i++;
  for (;;) {
    if (line[i] === '}') return { labels, end: i + 1 };
    const eq = line.indexOf('=', i);
    const name = line.slice(i, eq);
    if (eq < 0 || !LABEL.test(name) || line[eq + 1] !== '"') throw new Error(`bad label in: ${line}`);
    if (name in labels) throw new Error(`label ${name} twice in: ${line}`);
    let value = '';
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] !== '\\') {
        value += line[j];
        continue;
      }
      const next = line[++j];
      if (next === 'n') value += '\n';
      else if (next === '\\' || next === '"') value += next;
      else throw new Error(`bad escape in: ${line}`);
    }
    if (line[j] !== '"') throw new Error(`unterminated label value in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`expected , or } in: ${line}`);
  }
}

export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, help: null, type: null, samples: [] }));
    return f;
  };
  /** The family a sample name belongs to (a histogram's `_bucket`, `_sum`, `_count`). */
  const owner = (sample: string): Family | undefined => {
    const direct = families.get(sample);
    if (direct?.type) return direct;
    for (const f of families.values()) {
      if ((SUFFIXES[f.type ?? ''] ?? []).some((s) => sample === f.name + s)) return f;
    }
    return undefined;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (meta) {
      const [, kind, name, rest = ''] = meta;
      if (!NAME.test(name)) throw new Error(`bad metric name: ${line}`);
      const f = family(name);
      if (kind === 'HELP') {
        if (f.help !== null) throw new Error(`HELP twice for ${name}`);
        f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      } else {
        if (f.type !== null || f.samples.length) throw new Error(`TYPE twice or after samples for ${name}`);
        if (!TYPES.has(rest)) throw new Error(`bad type: ${line}`);
        f.type = rest;
      }
      continue;
    }
    if (line.startsWith('#')) continue; // a comment
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (!m) throw new Error(`not a sample: ${line}`);
    let i = m[1].length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i));
    if (line[i] !== ' ') throw new Error(`expected a space before the value: ${line}`);
    const [raw, timestamp, ...extra] = line.slice(i + 1).split(' ');
    if (extra.length || (timestamp !== undefined && !/^-?\d+$/.test(timestamp))) throw new Error(`bad sample tail: ${line}`);
    const f = owner(m[1]);
    if (!f) throw new Error(`sample of an undeclared family: ${line}`);
    f.samples.push({ name: m[1], labels, value: parseValue(raw, line) });
  }
  return families;
}

/** The value of the one sample of `name` whose labels include `labels` (undefined when none). */
export function sampleValue(families: Map<string, Family>, family: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const f = families.get(family);
  const matches = (f?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length > 1) throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matches[0]?.value;
}
