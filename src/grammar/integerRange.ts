/**
 * An integer range as GBNF, digit by digit: llama.cpp's build_min_max_int ported line for line (its
 * grammars are the reference the tests compare with), but for one fix marked below. A bound left
 * undefined is open; an open side still stops at 16 digits, as llama.cpp's integral-part does.
 */
export function integerRangeRule(min: number | undefined, max: number | undefined): string {
    const out: string[] = [];
    buildMinMaxInt(min, max, out, 16, true);
    return out.join("");
}

const nines = (count: number) => "9".repeat(count);
const zeros = (count: number) => "0".repeat(count);
const shift = (c: string, by: number) => String.fromCharCode(c.charCodeAt(0) + by);

function buildMinMaxInt(min: number | undefined, max: number | undefined, out: string[], decimalsLeft: number, topLevel: boolean) {
    const digitRange = (from: string, to: string) => {
        out.push("[", from === to ? from : `${from}-${to}`, "]");
    };
    const moreDigits = (minDigits: number, maxDigits: number | undefined) => {
        out.push("[0-9]");
        if (minDigits === maxDigits && minDigits === 1) return;
        out.push("{", String(minDigits));
        if (maxDigits !== minDigits) {
            out.push(",");
            if (maxDigits != null) out.push(String(maxDigits));
        }
        out.push("}");
    };
    const uniformRange = (from: string, to: string) => {
        let i = 0;
        while (i < from.length && i < to.length && from[i] === to[i]) i++;
        if (i > 0) out.push(`"${from.slice(0, i)}"`);
        if (i < from.length && i < to.length) {
            if (i > 0) out.push(" ");
            const subLength = from.length - i - 1;
            if (subLength > 0) {
                const fromSub = from.slice(i + 1);
                const toSub = to.slice(i + 1);
                let toReached = false;
                out.push("(");
                if (fromSub === zeros(subLength)) {
                    digitRange(from[i]!, shift(to[i]!, -1));
                    out.push(" ");
                    moreDigits(subLength, subLength);
                } else {
                    out.push(`[${from[i]!}] `, "(");
                    uniformRange(fromSub, nines(subLength));
                    out.push(")");
                    if (from.charCodeAt(i) < to.charCodeAt(i) - 1) {
                        out.push(" | ");
                        if (toSub === nines(subLength)) {
                            digitRange(shift(from[i]!, 1), to[i]!);
                            toReached = true;
                        } else digitRange(shift(from[i]!, 1), shift(to[i]!, -1));
                        out.push(" ");
                        moreDigits(subLength, subLength);
                    }
                }
                if (!toReached) {
                    out.push(" | ");
                    digitRange(to[i]!, to[i]!);
                    out.push(" ");
                    uniformRange(zeros(subLength), toSub);
                }
                out.push(")");
            } else out.push(`[${from[i]!}-${to[i]!}]`);
        }
    };

    if (min != null && max != null) {
        if (min < 0 && max < 0) {
            out.push("\"-\" (");
            buildMinMaxInt(-max, -min, out, decimalsLeft, true);
            out.push(")");
            return;
        }
        if (min < 0) {
            out.push("\"-\" (");
            buildMinMaxInt(0, -min, out, decimalsLeft, true);
            out.push(") | ");
            min = 0;
        }
        let minText = String(min);
        const maxText = String(max);
        for (let digits = minText.length; digits < maxText.length; digits++) {
            uniformRange(minText, nines(digits));
            minText = `1${zeros(digits)}`;
            out.push(" | ");
        }
        uniformRange(minText, maxText);
        return;
    }

    const lessDecimals = Math.max(decimalsLeft - 1, 1);
    if (min != null) {
        if (min < 0) {
            out.push("\"-\" (");
            buildMinMaxInt(undefined, -min, out, decimalsLeft, false);
            out.push(") | [0] | [1-9] ");
            moreDigits(0, decimalsLeft - 1);
        } else if (min === 0) {
            if (topLevel) {
                out.push("[0] | [1-9] ");
                moreDigits(0, lessDecimals);
            } else moreDigits(1, decimalsLeft);
        } else if (min <= 9) {
            const c = String(min);
            const rangeStart = topLevel ? "1" : "0";
            if (c > rangeStart) {
                digitRange(rangeStart, shift(c, -1));
                out.push(" ");
                moreDigits(1, lessDecimals);
                out.push(" | ");
            }
            digitRange(c, "9");
            out.push(" ");
            moreDigits(0, lessDecimals);
        } else {
            const minText = String(min);
            const length = minText.length;
            const c = minText[0]!;
            if (c > "1") {
                digitRange(topLevel ? "1" : "0", shift(c, -1));
                out.push(" ");
                moreDigits(length, lessDecimals);
                out.push(" | ");
            }
            digitRange(c, c);
            out.push(" (");
            buildMinMaxInt(Number(minText.slice(1)), undefined, out, lessDecimals, false);
            out.push(")");
            if (c < "9") {
                out.push(" | ");
                digitRange(shift(c, 1), "9");
                out.push(" ");
                moreDigits(length - 1, lessDecimals);
            }
        }
        return;
    }

    if (max != null) {
        if (max >= 0) {
            if (topLevel) {
                out.push("\"-\" [1-9] ");
                moreDigits(0, lessDecimals);
                out.push(" | ");
            }
            buildMinMaxInt(0, max, out, decimalsLeft, true);
        } else {
            // llama.cpp passes top_level = false here, which lets the digits after "-" start with 0
            // ("-05", not JSON); the digits after a minus sign are a number's first digits.
            out.push("\"-\" (");
            buildMinMaxInt(-max, undefined, out, decimalsLeft, true);
            out.push(")");
        }
        return;
    }
    throw new Error("an integer range needs a minimum or a maximum");
}
