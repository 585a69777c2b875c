#!/usr/bin/env node
// A tiny uncompiled shim: the compile cache makes every later start faster.
import module from "node:module";
module.enableCompileCache?.();
await import("../dist/src/cli/index.js");
