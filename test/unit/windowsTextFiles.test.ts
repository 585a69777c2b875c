import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {readPreviousRun} from "../../src/bench/compareRuns.js";
import {readOutputConstraint} from "../../src/cli/flags/outputConstraint.js";
import {Readable} from "node:stream";
import {readPeftConfig} from "../../src/adapters/peftConfig.js";
import {loadConversation} from "../../src/cli/chat/conversationFile.js";
import {readScoredText} from "../../src/cli/commands/perplexity.js";
import {readPrompt} from "../../src/cli/readPrompt.js";
import {decodeText, withoutLeadingBom} from "../../src/textFile.js";

// Files as Windows tools write them: Notepad's UTF-8 with a BOM, Windows PowerShell 5.1's UTF-16LE
// (`>` and Out-File), and UTF-16BE, all read as the text they hold.

const encodings: Record<string, (text: string) => Buffer> = {
    "UTF-8 with a BOM": (text) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, "utf8")]),
    "UTF-16LE (PowerShell 5.1's >)": (text) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]),
    "UTF-16BE": (text) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, "utf16le").swap16()])
};

let dir: string;
beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mixtral-encodings-"));
});
afterAll(() => fs.rmSync(dir, {recursive: true, force: true}));

function write(name: string, bytes: Buffer): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
}

describe.each(Object.entries(encodings))("a file in %s", (label, encode) => {
    const slug = label.replace(/\W+/g, "-");

    test("decodes to the same text, non-ASCII included", () => {
        expect(decodeText(encode("{\"name\": \"Zoë — 東京\"}"))).toBe("{\"name\": \"Zoë — 東京\"}");
    });

    test("is accepted by --json-schema", async () => {
        const schema = {type: "object", properties: {city: {type: "string"}}, required: ["city"]};
        const file = write(`${slug}.schema.json`, encode(JSON.stringify(schema, null, 2)));
        const spec = await readOutputConstraint({jsonSchema: file});
        expect(spec).toMatchObject({describes: "JSON"});
        expect(spec?.gbnf).toContain("city");
    });

    test("is accepted by --grammar", async () => {
        const file = write(`${slug}.gbnf`, encode("root ::= \"yes\" | \"no\"\r\n"));
        expect(await readOutputConstraint({grammar: file})).toMatchObject({describes: "grammar", gbnf: "root ::= \"yes\" | \"no\"\r\n"});
    });

    test("is read by bench --compare", async () => {
        const row = {model_type: "llama 8x7B Q4_K - Medium", n_prompt: 512, n_gen: 0, n_depth: 0, n_threads: 8, n_gpu_layers: 99, avg_ts: 123.4};
        const file = write(`${slug}.previous.json`, encode(JSON.stringify([row], null, 2) + "\r\n"));
        expect(await readPreviousRun(file)).toEqual([row]);
    });

    test("is loaded by chat's /load and --resume", async () => {
        const saved = {messages: [{role: "user", content: "Zoë?"}, {role: "assistant", content: "東京."}]};
        const file = write(`${slug}.talk.json`, encode(JSON.stringify(saved, null, 2) + "\r\n"));
        expect((await loadConversation(file)).messages).toEqual(saved.messages);
    });

    test("is read as a PEFT adapter_config.json", async () => {
        const config = {peft_type: "LORA", r: 8, lora_alpha: 16, target_modules: ["q_proj"]};
        const file = write(`${slug}.adapter_config.json`, encode(JSON.stringify(config)));
        expect(await readPeftConfig(file)).toMatchObject({r: 8, loraAlpha: 16});
    });

    test("piped on stdin (cmd's `type file | mixtral complete`) is the prompt it holds", async () => {
        expect(await readPrompt("-", Readable.from([encode("Zoë — 東京\r\n")]) as unknown as NodeJS.ReadStream)).toBe("Zoë — 東京");
    });
});

describe("perplexity -f reads the bytes as llama-perplexity does", () => {
    test("a UTF-8 BOM stays, as llama-perplexity tokenizes it (same chunks, same figure); one final newline goes", async () => {
        const file = write("bom.raw", encodings["UTF-8 with a BOM"]!("Zoë\n"));
        expect(await readScoredText(file)).toBe("\uFEFFZoë");
    });

    test("UTF-16 is decoded, and the command is told so it can say the figure is not llama-perplexity's for that file", async () => {
        let told = 0;
        const file = write("utf16.raw", encodings["UTF-16LE (PowerShell 5.1's >)"]!("Zoë — 東京\r\n"));
        expect(await readScoredText(file, () => told++)).toBe("Zoë — 東京\r");
        expect(told).toBe(1);
        expect(await readScoredText(write("plain.raw", Buffer.from("x\n")), () => told++)).toBe("x");
        expect(told).toBe(1);
    });

    test("on Windows a CRLF is read as LF, as llama-perplexity's text-mode ifstream reads it there; elsewhere as is", async () => {
        const file = write("crlf.raw", Buffer.from("one\r\ntwo\r\n"));
        expect(await readScoredText(file, undefined, "win32")).toBe("one\ntwo");
        expect(await readScoredText(file, undefined, "linux")).toBe("one\r\ntwo\r");
    });
});

test("the first line of stdin with --lines loses a UTF-8 BOM", () => {
    expect(withoutLeadingBom("\uFEFFhello")).toBe("hello");
    expect(withoutLeadingBom("hello\uFEFF")).toBe("hello\uFEFF");
});

test("a file without a BOM stays UTF-8", () => {
    expect(decodeText(Buffer.from("ÿþ is text here", "utf8"))).toBe("ÿþ is text here");
});
