/** Prints the ggml CPU library node-llama-cpp's prebuilt binding loads here (see prebuiltCpuLibrary.ts). */
import {readFileSync} from "node:fs";
import {loadLlama} from "../../src/engine/native/loadLlama.js";

await loadLlama({gpu: "cpu"});
const paths = readFileSync("/proc/self/maps", "utf8").split("\n").map((line) => line.split(/\s+/)[5] ?? "");
console.log(paths.find((path) => /libggml-cpu[^/]*\.so$/.test(path)) ?? "");
process.exit(0);
