/**
 * Run as its own process by chatTemplateProbe.ts: renders a chat template (stdin) on a sample
 * conversation with node-llama-cpp's Jinja wrapper and prints the rendered length as JSON. A
 * template that loops, or exhausts V8 (which kills the whole process, workers included), takes
 * only this process down.
 */
import {readFileSync} from "node:fs";
import {createRequire} from "node:module";
import {pathToFileURL} from "node:url";
import path from "node:path";

// Only the Jinja wrapper: importing all of node-llama-cpp takes a second or more. The package's
// exports map hides the file, so it is found next to the resolved entry.
const entry = createRequire(import.meta.url).resolve("node-llama-cpp");
const wrapperFile = path.join(path.dirname(entry), "chatWrappers", "generic", "JinjaTemplateChatWrapper.js");
const {JinjaTemplateChatWrapper} = await import(pathToFileURL(wrapperFile).href) as typeof import("node-llama-cpp");

const template = readFileSync(0, "utf8");
const wrapper = new JinjaTemplateChatWrapper({
    template,
    convertUnsupportedSystemMessagesToUserMessages: {use: "ifNeeded", format: "{{message}}"}
});
const {contextText} = wrapper.generateContextState({
    chatHistory: [
        {type: "system", text: "Answer briefly."},
        {type: "user", text: "What is a mixture of experts?"},
        {type: "model", response: ["Several expert networks, a router picking two per token."]},
        {type: "user", text: "Thanks!"},
        {type: "model", response: []}
    ]
});
process.stdout.write(JSON.stringify({renderedLength: contextText.toString().length}));
