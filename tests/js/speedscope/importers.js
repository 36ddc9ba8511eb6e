// speedscope's own importers (importSpeedscopeProfiles from src/lib/file-format.ts,
// importFromBGFlameGraph from src/import/bg-flamegraph.ts) of jlfwong/speedscope at commit
// 3613918 (version 1.25.0), bundled unmodified by build.mjs in this directory; only the C++
// demangler (a wasm blob the importers never call) is left out. MIT License, Copyright (c)
// 2018 Jamie Wong: see LICENSE.

var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __esm = (fn, res) => function __init() {
  return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
};
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);

// stub:demangle
var demangle_exports = {};
__export(demangle_exports, {
  loadDemangling: () => loadDemangling
});
async function loadDemangling() {
  throw new Error("not bundled");
}
var init_demangle = __esm({
  "stub:demangle"() {
  }
});

// entry.ts
var entry_exports = {};
__export(entry_exports, {
  importFromBGFlameGraph: () => importFromBGFlameGraph,
  importSpeedscopeProfiles: () => importSpeedscopeProfiles
});
module.exports = __toCommonJS(entry_exports);

// src/lib/utils.ts
function lastOf(ts) {
  return ts[ts.length - 1] || null;
}
var KeyedSet = class {
  map = /* @__PURE__ */ new Map();
  getOrInsert(t) {
    const key = t.key;
    const existing = this.map.get(key);
    if (existing) return existing;
    this.map.set(key, t);
    return t;
  }
  forEach(fn) {
    this.map.forEach(fn);
  }
  [Symbol.iterator]() {
    return this.map.values();
  }
};
function zeroPad(s, width) {
  return new Array(Math.max(width - s.length, 0) + 1).join("0") + s;
}
function lazyStatic(cb) {
  let last = null;
  return () => {
    if (last == null) {
      last = { result: cb() };
    }
    return last.result;
  };
}
var base64lookupTable = lazyStatic(() => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const ret = /* @__PURE__ */ new Map();
  for (let i = 0; i < alphabet.length; i++) {
    ret.set(alphabet.charAt(i), i);
  }
  ret.set("=", -1);
  return ret;
});

// src/lib/value-formatters.ts
var RawValueFormatter = class {
  unit = "none";
  format(v) {
    return v.toLocaleString();
  }
};
var TimeFormatter = class {
  constructor(unit) {
    this.unit = unit;
    if (unit === "nanoseconds") this.multiplier = 1e-9;
    else if (unit === "microseconds") this.multiplier = 1e-6;
    else if (unit === "milliseconds") this.multiplier = 1e-3;
    else this.multiplier = 1;
  }
  multiplier;
  formatUnsigned(v) {
    const s = v * this.multiplier;
    if (s / 60 >= 1) {
      const minutes = Math.floor(s / 60);
      const seconds = Math.floor(s - minutes * 60).toString();
      return `${minutes}:${zeroPad(seconds, 2)}`;
    }
    if (s / 1 >= 1) return `${s.toFixed(2)}s`;
    if (s / 1e-3 >= 1) return `${(s / 1e-3).toFixed(2)}ms`;
    if (s / 1e-6 >= 1) return `${(s / 1e-6).toFixed(2)}\xB5s`;
    else return `${(s / 1e-9).toFixed(2)}ns`;
  }
  format(v) {
    return `${v < 0 ? "-" : ""}${this.formatUnsigned(Math.abs(v))}`;
  }
};
var ByteFormatter = class {
  unit = "bytes";
  format(v) {
    if (v < 1024) return `${v.toFixed(0)} B`;
    v /= 1024;
    if (v < 1024) return `${v.toFixed(2)} KB`;
    v /= 1024;
    if (v < 1024) return `${v.toFixed(2)} MB`;
    v /= 1024;
    return `${v.toFixed(2)} GB`;
  }
};

// src/lib/profile.ts
var HasWeights = class {
  selfWeight = 0;
  totalWeight = 0;
  getSelfWeight() {
    return this.selfWeight;
  }
  getTotalWeight() {
    return this.totalWeight;
  }
  addToTotalWeight(delta) {
    this.totalWeight += delta;
  }
  addToSelfWeight(delta) {
    this.selfWeight += delta;
  }
  overwriteWeightWith(other) {
    this.selfWeight = other.selfWeight;
    this.totalWeight = other.totalWeight;
  }
};
var Frame = class _Frame extends HasWeights {
  key;
  // Name of the frame. May be a method name, e.g.
  // "ActiveRecord##to_hash"
  name;
  // File path of the code corresponding to this
  // call stack frame.
  file;
  // Line in the given file where this frame occurs
  line;
  // Column in the file
  col;
  constructor(info) {
    super();
    this.key = info.key;
    this.name = info.name;
    this.file = info.file;
    this.line = info.line;
    this.col = info.col;
  }
  static root = new _Frame({
    key: "(speedscope root)",
    name: "(speedscope root)"
  });
  static getOrInsert(set, info) {
    return set.getOrInsert(new _Frame(info));
  }
};
var CallTreeNode = class extends HasWeights {
  constructor(frame, parent) {
    super();
    this.frame = frame;
    this.parent = parent;
  }
  children = [];
  isRoot() {
    return this.frame === Frame.root;
  }
  // If a node is "frozen", it means it should no longer be mutated.
  frozen = false;
  isFrozen() {
    return this.frozen;
  }
  freeze() {
    this.frozen = true;
  }
};
var Profile = class _Profile {
  name = "";
  totalWeight;
  frames = new KeyedSet();
  // Profiles store two call-trees.
  //
  // The "append order" call tree is the one in which nodes are ordered in
  // whatever order they were appended to their parent.
  //
  // The "grouped" call tree is one in which each node has at most one child per
  // frame. Nodes are ordered in decreasing order of weight
  appendOrderCalltreeRoot = new CallTreeNode(Frame.root, null);
  groupedCalltreeRoot = new CallTreeNode(Frame.root, null);
  getAppendOrderCalltreeRoot() {
    return this.appendOrderCalltreeRoot;
  }
  getGroupedCalltreeRoot() {
    return this.groupedCalltreeRoot;
  }
  // List of references to CallTreeNodes at the top of the
  // stack at the time of the sample.
  samples = [];
  weights = [];
  valueFormatter = new RawValueFormatter();
  constructor(totalWeight = 0) {
    this.totalWeight = totalWeight;
  }
  shallowClone() {
    const profile = new _Profile(this.totalWeight);
    Object.assign(profile, this);
    return profile;
  }
  formatValue(v) {
    return this.valueFormatter.format(v);
  }
  setValueFormatter(f) {
    this.valueFormatter = f;
  }
  getWeightUnit() {
    return this.valueFormatter.unit;
  }
  getName() {
    return this.name;
  }
  setName(name) {
    this.name = name;
  }
  getTotalWeight() {
    return this.totalWeight;
  }
  totalNonIdleWeight = null;
  getTotalNonIdleWeight() {
    if (this.totalNonIdleWeight === null) {
      this.totalNonIdleWeight = this.groupedCalltreeRoot.children.reduce(
        (n, c) => n + c.getTotalWeight(),
        0
      );
    }
    return this.totalNonIdleWeight;
  }
  // This is private because it should only be called in the ProfileBuilder
  // classes. Once a Profile instance has been constructed, it should be treated
  // as immutable.
  sortGroupedCallTree() {
    function visit(node) {
      node.children.sort((a, b) => -(a.getTotalWeight() - b.getTotalWeight()));
      node.children.forEach(visit);
    }
    visit(this.groupedCalltreeRoot);
  }
  forEachCallGrouped(openFrame, closeFrame) {
    function visit(node, start) {
      if (node.frame !== Frame.root) {
        openFrame(node, start);
      }
      let childTime = 0;
      node.children.forEach(function(child) {
        visit(child, start + childTime);
        childTime += child.getTotalWeight();
      });
      if (node.frame !== Frame.root) {
        closeFrame(node, start + node.getTotalWeight());
      }
    }
    visit(this.groupedCalltreeRoot, 0);
  }
  forEachCall(openFrame, closeFrame) {
    let prevStack = [];
    let value = 0;
    let sampleIndex = 0;
    for (let stackTop of this.samples) {
      let lca = null;
      for (lca = stackTop; lca && lca.frame != Frame.root && prevStack.indexOf(lca) === -1; lca = lca.parent) {
      }
      while (prevStack.length > 0 && lastOf(prevStack) != lca) {
        const node = prevStack.pop();
        closeFrame(node, value);
      }
      const toOpen = [];
      for (let node = stackTop; node && node.frame != Frame.root && node != lca; node = node.parent) {
        toOpen.push(node);
      }
      toOpen.reverse();
      for (let node of toOpen) {
        openFrame(node, value);
      }
      prevStack = prevStack.concat(toOpen);
      value += this.weights[sampleIndex++];
    }
    for (let i = prevStack.length - 1; i >= 0; i--) {
      closeFrame(prevStack[i], value);
    }
  }
  forEachFrame(fn) {
    this.frames.forEach(fn);
  }
  getProfileWithRecursionFlattened() {
    const builder = new CallTreeProfileBuilder();
    const stack = [];
    const framesInStack = /* @__PURE__ */ new Set();
    function openFrame(node, value) {
      if (framesInStack.has(node.frame)) {
        stack.push(null);
      } else {
        framesInStack.add(node.frame);
        stack.push(node);
        builder.enterFrame(node.frame, value);
      }
    }
    function closeFrame(node, value) {
      const stackTop = stack.pop();
      if (stackTop) {
        framesInStack.delete(stackTop.frame);
        builder.leaveFrame(stackTop.frame, value);
      }
    }
    this.forEachCall(openFrame, closeFrame);
    const flattenedProfile = builder.build();
    flattenedProfile.name = this.name;
    flattenedProfile.valueFormatter = this.valueFormatter;
    this.forEachFrame((f) => {
      flattenedProfile.frames.getOrInsert(f).overwriteWeightWith(f);
    });
    return flattenedProfile;
  }
  getInvertedProfileForCallersOf(focalFrameInfo) {
    const focalFrame = Frame.getOrInsert(this.frames, focalFrameInfo);
    const builder = new StackListProfileBuilder();
    const nodes = [];
    function visit(node) {
      if (node.frame === focalFrame) {
        nodes.push(node);
      } else {
        for (let child of node.children) {
          visit(child);
        }
      }
    }
    visit(this.appendOrderCalltreeRoot);
    for (let node of nodes) {
      const stack = [];
      for (let n = node; n != null && n.frame !== Frame.root; n = n.parent) {
        stack.push(n.frame);
      }
      builder.appendSampleWithWeight(stack, node.getTotalWeight());
    }
    const ret = builder.build();
    ret.name = this.name;
    ret.valueFormatter = this.valueFormatter;
    return ret;
  }
  getProfileForCalleesOf(focalFrameInfo) {
    const focalFrame = Frame.getOrInsert(this.frames, focalFrameInfo);
    const builder = new StackListProfileBuilder();
    function recordSubtree(focalFrameNode) {
      const stack = [];
      function visit(node) {
        stack.push(node.frame);
        builder.appendSampleWithWeight(stack, node.getSelfWeight());
        for (let child of node.children) {
          visit(child);
        }
        stack.pop();
      }
      visit(focalFrameNode);
    }
    function findCalls(node) {
      if (node.frame === focalFrame) {
        recordSubtree(node);
      } else {
        for (let child of node.children) {
          findCalls(child);
        }
      }
    }
    findCalls(this.appendOrderCalltreeRoot);
    const ret = builder.build();
    ret.name = this.name;
    ret.valueFormatter = this.valueFormatter;
    return ret;
  }
  // Demangle symbols for readability
  async demangle() {
    let demangle = null;
    for (let frame of this.frames) {
      if (frame.name.startsWith("__Z") || frame.name.startsWith("_R") || frame.name.startsWith("_Z")) {
        if (!demangle) {
          const demangleModule = await Promise.resolve().then(() => (init_demangle(), demangle_exports));
          demangle = await demangleModule.loadDemangling();
        }
        frame.name = demangle(frame.name);
      }
    }
  }
  remapSymbols(callback) {
    for (let frame of this.frames) {
      const remapped = callback(frame);
      if (remapped == null) {
        continue;
      }
      const { name, file, line, col } = remapped;
      if (name != null) {
        frame.name = name;
      }
      if (file != null) {
        frame.file = file;
      }
      if (line != null) {
        frame.line = line;
      }
      if (col != null) {
        frame.col = col;
      }
    }
  }
};
var StackListProfileBuilder = class extends Profile {
  _appendSample(stack, weight, useAppendOrder) {
    if (isNaN(weight)) throw new Error("invalid weight");
    let node = useAppendOrder ? this.appendOrderCalltreeRoot : this.groupedCalltreeRoot;
    let framesInStack = /* @__PURE__ */ new Set();
    for (let frame of stack) {
      const last = useAppendOrder ? lastOf(node.children) : node.children.find((c) => c.frame === frame);
      if (last && !last.isFrozen() && last.frame == frame) {
        node = last;
      } else {
        const parent = node;
        node = new CallTreeNode(frame, node);
        parent.children.push(node);
      }
      node.addToTotalWeight(weight);
      framesInStack.add(node.frame);
    }
    node.addToSelfWeight(weight);
    if (useAppendOrder) {
      for (let child of node.children) {
        child.freeze();
      }
    }
    if (useAppendOrder) {
      node.frame.addToSelfWeight(weight);
      for (let frame of framesInStack) {
        frame.addToTotalWeight(weight);
      }
      if (node === lastOf(this.samples)) {
        this.weights[this.weights.length - 1] += weight;
      } else {
        this.samples.push(node);
        this.weights.push(weight);
      }
    }
  }
  appendSampleWithWeight(stack, weight) {
    if (weight === 0) {
      return;
    }
    if (weight < 0) {
      throw new Error("Samples must have positive weights");
    }
    const frames = stack.map((fr) => Frame.getOrInsert(this.frames, fr));
    this._appendSample(frames, weight, true);
    this._appendSample(frames, weight, false);
  }
  pendingSample = null;
  appendSampleWithTimestamp(stack, timestamp) {
    if (this.pendingSample) {
      if (timestamp < this.pendingSample.centralTimestamp) {
        throw new Error("Timestamps received out of order");
      }
      const endTimestamp = (timestamp + this.pendingSample.centralTimestamp) / 2;
      this.appendSampleWithWeight(
        this.pendingSample.stack,
        endTimestamp - this.pendingSample.startTimestamp
      );
      this.pendingSample = { stack, startTimestamp: endTimestamp, centralTimestamp: timestamp };
    } else {
      this.pendingSample = { stack, startTimestamp: timestamp, centralTimestamp: timestamp };
    }
  }
  build() {
    if (this.pendingSample) {
      if (this.samples.length > 0) {
        this.appendSampleWithWeight(
          this.pendingSample.stack,
          this.pendingSample.centralTimestamp - this.pendingSample.startTimestamp
        );
      } else {
        this.appendSampleWithWeight(this.pendingSample.stack, 1);
        this.setValueFormatter(new RawValueFormatter());
      }
    }
    this.totalWeight = Math.max(
      this.totalWeight,
      this.weights.reduce((a, b) => a + b, 0)
    );
    this.sortGroupedCallTree();
    return this;
  }
};
var CallTreeProfileBuilder = class extends Profile {
  appendOrderStack = [this.appendOrderCalltreeRoot];
  groupedOrderStack = [this.groupedCalltreeRoot];
  framesInStack = /* @__PURE__ */ new Map();
  stack = [];
  lastValue = 0;
  addWeightsToFrames(value) {
    const delta = value - this.lastValue;
    for (let frame of this.framesInStack.keys()) {
      frame.addToTotalWeight(delta);
    }
    const stackTop = lastOf(this.stack);
    if (stackTop) {
      stackTop.addToSelfWeight(delta);
    }
  }
  addWeightsToNodes(value, stack) {
    const delta = value - this.lastValue;
    for (let node of stack) {
      node.addToTotalWeight(delta);
    }
    const stackTop = lastOf(stack);
    if (stackTop) {
      stackTop.addToSelfWeight(delta);
    }
  }
  _enterFrame(frame, value, useAppendOrder) {
    let stack = useAppendOrder ? this.appendOrderStack : this.groupedOrderStack;
    this.addWeightsToNodes(value, stack);
    let prevTop = lastOf(stack);
    if (prevTop) {
      if (useAppendOrder) {
        const delta = value - this.lastValue;
        if (delta > 0) {
          this.samples.push(prevTop);
          this.weights.push(value - this.lastValue);
        } else if (delta < 0) {
          throw new Error(
            `Samples must be provided in increasing order of cumulative value. Last sample was ${this.lastValue}, this sample was ${value}`
          );
        }
      }
      const last = useAppendOrder ? lastOf(prevTop.children) : prevTop.children.find((c) => c.frame === frame);
      let node;
      if (last && !last.isFrozen() && last.frame == frame) {
        node = last;
      } else {
        node = new CallTreeNode(frame, prevTop);
        prevTop.children.push(node);
      }
      stack.push(node);
    }
  }
  enterFrame(frameInfo, value) {
    const frame = Frame.getOrInsert(this.frames, frameInfo);
    this.addWeightsToFrames(value);
    this._enterFrame(frame, value, true);
    this._enterFrame(frame, value, false);
    this.stack.push(frame);
    const frameCount = this.framesInStack.get(frame) || 0;
    this.framesInStack.set(frame, frameCount + 1);
    this.lastValue = value;
    this.totalWeight = Math.max(this.totalWeight, this.lastValue);
  }
  _leaveFrame(frame, value, useAppendOrder) {
    let stack = useAppendOrder ? this.appendOrderStack : this.groupedOrderStack;
    this.addWeightsToNodes(value, stack);
    if (useAppendOrder) {
      const leavingStackTop = this.appendOrderStack.pop();
      if (leavingStackTop == null) {
        throw new Error(`Trying to leave ${frame.key} when stack is empty`);
      }
      if (this.lastValue == null) {
        throw new Error(`Trying to leave a ${frame.key} before any have been entered`);
      }
      leavingStackTop.freeze();
      if (leavingStackTop.frame.key !== frame.key) {
        throw new Error(
          `Tried to leave frame "${frame.name}" while frame "${leavingStackTop.frame.name}" was at the top at ${value}`
        );
      }
      const delta = value - this.lastValue;
      if (delta > 0) {
        this.samples.push(leavingStackTop);
        this.weights.push(value - this.lastValue);
      } else if (delta < 0) {
        throw new Error(
          `Samples must be provided in increasing order of cumulative value. Last sample was ${this.lastValue}, this sample was ${value}`
        );
      }
    } else {
      this.groupedOrderStack.pop();
    }
  }
  leaveFrame(frameInfo, value) {
    const frame = Frame.getOrInsert(this.frames, frameInfo);
    this.addWeightsToFrames(value);
    this._leaveFrame(frame, value, true);
    this._leaveFrame(frame, value, false);
    this.stack.pop();
    const frameCount = this.framesInStack.get(frame);
    if (frameCount == null) return;
    if (frameCount === 1) {
      this.framesInStack.delete(frame);
    } else {
      this.framesInStack.set(frame, frameCount - 1);
    }
    this.lastValue = value;
    this.totalWeight = Math.max(this.totalWeight, this.lastValue);
  }
  build() {
    if (this.appendOrderStack.length > 1 || this.groupedOrderStack.length > 1) {
      throw new Error("Tried to complete profile construction with a non-empty stack");
    }
    this.sortGroupedCallTree();
    return this;
  }
};

// src/lib/file-format-spec.ts
var FileFormat;
((FileFormat2) => {
  let ProfileType;
  ((ProfileType2) => {
    ProfileType2["EVENTED"] = "evented";
    ProfileType2["SAMPLED"] = "sampled";
  })(ProfileType = FileFormat2.ProfileType || (FileFormat2.ProfileType = {}));
  let EventType;
  ((EventType2) => {
    EventType2["OPEN_FRAME"] = "O";
    EventType2["CLOSE_FRAME"] = "C";
  })(EventType = FileFormat2.EventType || (FileFormat2.EventType = {}));
})(FileFormat || (FileFormat = {}));

// src/lib/file-format.ts
function importSpeedscopeProfile(serialized, frames) {
  function setCommonProperties(p) {
    const { name, unit } = serialized;
    switch (unit) {
      case "nanoseconds":
      case "microseconds":
      case "milliseconds":
      case "seconds":
        p.setValueFormatter(new TimeFormatter(unit));
        break;
      case "bytes":
        p.setValueFormatter(new ByteFormatter());
        break;
      case "none":
        p.setValueFormatter(new RawValueFormatter());
        break;
    }
    p.setName(name);
  }
  function importEventedProfile(evented) {
    const { startValue, endValue, events } = evented;
    const profile = new CallTreeProfileBuilder(endValue - startValue);
    setCommonProperties(profile);
    const frameInfos = frames.map((frame, i) => ({ key: i, ...frame }));
    for (let ev of events) {
      switch (ev.type) {
        case FileFormat.EventType.OPEN_FRAME: {
          profile.enterFrame(frameInfos[ev.frame], ev.at - startValue);
          break;
        }
        case FileFormat.EventType.CLOSE_FRAME: {
          profile.leaveFrame(frameInfos[ev.frame], ev.at - startValue);
          break;
        }
      }
    }
    return profile.build();
  }
  function importSampledProfile(sampled) {
    const { startValue, endValue, samples, weights } = sampled;
    const profile = new StackListProfileBuilder(endValue - startValue);
    setCommonProperties(profile);
    const frameInfos = frames.map((frame, i) => ({ key: i, ...frame }));
    if (samples.length !== weights.length) {
      throw new Error(
        `Expected samples.length (${samples.length}) to equal weights.length (${weights.length})`
      );
    }
    for (let i = 0; i < samples.length; i++) {
      const stack = samples[i];
      const weight = weights[i];
      profile.appendSampleWithWeight(
        stack.map((n) => frameInfos[n]),
        weight
      );
    }
    return profile.build();
  }
  switch (serialized.type) {
    case FileFormat.ProfileType.EVENTED:
      return importEventedProfile(serialized);
    case FileFormat.ProfileType.SAMPLED:
      return importSampledProfile(serialized);
  }
}
function importSpeedscopeProfiles(serialized) {
  return {
    name: serialized.name || serialized.profiles[0].name || "profile",
    indexToView: serialized.activeProfileIndex || 0,
    profiles: serialized.profiles.map((p) => importSpeedscopeProfile(p, serialized.shared.frames))
  };
}

// src/import/bg-flamegraph.ts
function parseBGFoldedStacks(contents) {
  const samples = [];
  for (const line of contents.splitLines()) {
    const match = /^(.*) (\d+)$/gm.exec(line);
    if (!match) continue;
    const stack = match[1];
    const n = match[2];
    samples.push({
      stack: stack.split(";").map((name) => ({ key: name, name })),
      duration: parseInt(n, 10)
    });
  }
  return samples;
}
function importFromBGFlameGraph(contents) {
  const parsed = parseBGFoldedStacks(contents);
  const duration = parsed.reduce((prev, cur) => prev + cur.duration, 0);
  const profile = new StackListProfileBuilder(duration);
  if (parsed.length === 0) {
    return null;
  }
  for (let sample of parsed) {
    profile.appendSampleWithWeight(sample.stack, sample.duration);
  }
  return profile.build();
}
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  importFromBGFlameGraph,
  importSpeedscopeProfiles
});
