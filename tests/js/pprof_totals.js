// Decode a gzip pprof file with the pprof-format package (an independent implementation)
// and print its totals as JSON: per sample type, per leaf function, and label pairs.
"use strict";
const fs = require("fs");
const zlib = require("zlib");
const { Profile } = require("pprof-format");

const p = Profile.decode(zlib.gunzipSync(fs.readFileSync(process.argv[2])));
const S = p.stringTable.strings;
const fnName = new Map(p.function.map((f) => [Number(f.id), S[Number(f.name)]]));
const locFn = new Map(
  p.location.map((l) => [Number(l.id), fnName.get(Number(l.line[0].functionId))])
);
const types = p.sampleType.map((t) => S[Number(t.type)] + "/" + S[Number(t.unit)]);
const totals = {};
const leafSelf = {};
const labels = {};
types.forEach((t) => (totals[t] = 0));
for (const s of p.sample) {
  s.value.forEach((v, i) => (totals[types[i]] += Number(v)));
  const leaf = s.locationId.length ? locFn.get(Number(s.locationId[0])) : "";
  leafSelf[leaf] = (leafSelf[leaf] || 0) + Number(s.value[0]);
  for (const l of s.label) {
    const key = S[Number(l.key)] + "=" + S[Number(l.str)];
    labels[key] = (labels[key] || 0) + Number(s.value[0]);
  }
}
process.stdout.write(
  JSON.stringify({ types, totals, leafSelf, labels, samples: p.sample.length,
                   period: Number(p.period), durationNanos: Number(p.durationNanos) })
);
