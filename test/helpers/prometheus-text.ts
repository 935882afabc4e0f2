/**
 * A strict parser for the Prometheus text exposition format (0.0.4), used to prove that
 * `/metrics` is well-formed: every sample belongs to a declared family, values are numbers,
 * label sets are syntactically valid.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SUFFIXES = ["_bucket", "_sum", "_count", "_total", "_created"];

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    const where = `line ${index + 1}: ${line}`;
    if (line.trim() === "") return;
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      const [, kind, name, ...rest] = line.split(" ");
      if (!name || !NAME.test(name)) throw new Error(`bad metric name at ${where}`);
      const family = families.get(name) ?? { type: "untyped", help: "", samples: [] };
      if (kind === "TYPE") {
        const type = rest[0] ?? "";
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(type)) throw new Error(`bad type at ${where}`);
        family.type = type;
      } else family.help = rest.join(" ");
      families.set(name, family);
      return;
    }
    if (line.startsWith("#")) return;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/.exec(line);
    if (!match) throw new Error(`unparseable sample at ${where}`);
    const [, name = "", , labelText = "", valueText = ""] = match;
    const value = valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : Number(valueText);
    if (Number.isNaN(value) && valueText !== "NaN") throw new Error(`bad value at ${where}`);
    const labels: Record<string, string> = {};
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
    let pos = 0;
    while (pos < labelText.length) {
      labelRe.lastIndex = pos;
      const m = labelRe.exec(labelText);
      if (!m) throw new Error(`bad labels at ${where}`);
      labels[m[1] ?? ""] = (m[2] ?? "").replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
      pos = labelRe.lastIndex;
    }
    const familyName = families.has(name) ? name : SUFFIXES.map((s) => (name.endsWith(s) ? name.slice(0, -s.length) : "")).find((n) => n && families.has(n));
    const family = familyName ? families.get(familyName) : undefined;
    if (!family) throw new Error(`sample without a # TYPE family at ${where}`);
    family.samples.push({ name, labels, value });
  });
  return families;
}
