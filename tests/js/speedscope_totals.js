// Read a file with speedscope's own importers and print what speedscope would show, as JSON:
// per profile its name, weight unit, total weight and self/total weight per frame.
// Usage: node speedscope_totals.js speedscope|folded FILE
"use strict";
const fs = require("fs");
const { importSpeedscopeProfiles, importFromBGFlameGraph } = require("./speedscope/importers.js");

const [kind, path] = process.argv.slice(2);
const text = fs.readFileSync(path, "utf8");
let profiles;
if (kind === "speedscope") {
  profiles = importSpeedscopeProfiles(JSON.parse(text)).profiles;
} else {
  const p = importFromBGFlameGraph({ splitLines: () => text.split("\n") });
  profiles = p ? [p] : [];
}
const out = profiles.map((p) => {
  const self = {};
  const total = {};
  p.forEachFrame((f) => {
    const key = f.file ? `${f.name} (${f.file})` : f.name;
    self[key] = (self[key] || 0) + f.getSelfWeight();
    total[key] = (total[key] || 0) + f.getTotalWeight();
  });
  return { name: p.getName(), unit: p.getWeightUnit(), total: p.getTotalWeight(), self, total_by_frame: total };
});
process.stdout.write(JSON.stringify(out));
