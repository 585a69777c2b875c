import {UsageError} from "../errors.js";
import type {PlanEntry} from "./planPlacement.js";

/** --quant must name a quant of the catalog: a typo (Q9, Q4_K) is a usage error, not "nothing fits". */
export function assertKnownQuant(quant: string | undefined, entries: readonly Pick<PlanEntry, "quant">[]) {
    if (quant == null) return;
    const quants = [...new Set(entries.map((entry) => entry.quant))];
    if (quants.some((known) => known.toLowerCase() === quant.toLowerCase())) return;
    throw new UsageError(`--quant ${quant} is not a quant of the catalog.`, {hint: `Choose one of: ${quants.join(", ")} (see \`mixtral models\`).`});
}
