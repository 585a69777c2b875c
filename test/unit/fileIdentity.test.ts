import {mkdtempSync, renameSync, rmSync, truncateSync, utimesSync, writeFileSync} from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterEach, expect, test} from "vitest";
import {currentFileIdentity, describeFileChange, fileIdentity, sameFile} from "../../src/gguf/fileIdentity.js";

const folder = mkdtempSync(path.join(os.tmpdir(), "mixtral-file-identity-"));
afterEach(() => rmSync(folder, {recursive: true, force: true}));

test("a file truncated, rewritten, replaced or deleted is no longer the same file, and the change is said in a few words", async () => {
    const file = path.join(folder, "model.gguf");
    writeFileSync(file, "0123456789");
    const loaded = await fileIdentity(file);
    expect(sameFile(loaded, currentFileIdentity(file)!)).toBe(true);

    truncateSync(file, 4);
    expect(describeFileChange(loaded, currentFileIdentity(file))).toBe("its size went from 10 to 4 bytes");
    writeFileSync(file, "9876543210");
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const rewritten = currentFileIdentity(file)!;
    expect(sameFile(loaded, rewritten)).toBe(false);
    expect(describeFileChange(loaded, rewritten)).toBe("it was rewritten");

    const other = path.join(folder, "other.gguf");
    writeFileSync(other, "0123456789");
    renameSync(other, file);
    expect(describeFileChange(loaded, currentFileIdentity(file))).toBe("another file was put in its place");
    rmSync(file);
    expect(currentFileIdentity(file)).toBeUndefined();
    expect(describeFileChange(loaded, undefined)).toBe("it was deleted or can no longer be read");
});
