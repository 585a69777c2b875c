import {describe, expect, test} from "vitest";
import {ChatSession} from "../../src/engine/chat/chatSession.js";
import {useTemplateModels} from "../e2e/helpers/templateModels.js";

// The engine marks where earlier answers go with private-use characters: a user who types them
// (U+E000, U+E001) must get them to the model as text, never as a reference to an answer.
const typed = "look \uE0001\uE001 and \uE000 and \uE001 and \uE0009\uE001";
const conversation = [
    {role: "user", content: "hello"},
    {role: "assistant", content: "the sun"},
    {role: "user", content: typed}
] as const;

const models = useTemplateModels();

describe("private-use characters in chat text", () => {
    for (const [label, model] of [["the file's template", () => models.withTemplate], ["Mistral's format", () => models.withoutTemplate]] as const) {
        test(`reach the model as typed, through ${label}`, () => {
            const session = new ChatSession(model().sequence, {system: "sys \uE0001\uE001"});
            session.replace("sys \uE0001\uE001", conversation);
            const text = model().model.detokenize(session.promptTokens(), true);
            expect(text).toContain(typed);
            expect(text).toContain("sys \uE0001\uE001");
            expect(text.match(/the sun/g)).toHaveLength(1);
        });
    }

    test("in the only message, are text and not a missing answer", () => {
        const session = new ChatSession(models.withoutTemplate.sequence);
        session.replace(undefined, [{role: "user", content: "\uE0000\uE001"}]);
        expect(models.withoutTemplate.model.detokenize(session.promptTokens(), true)).toContain("\uE0000\uE001");
    });
});
