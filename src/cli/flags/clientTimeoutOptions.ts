import type {Command} from "commander";
import {UsageError} from "../../errors.js";
import {defaultClientTimeouts, type ClientTimeouts} from "../../remote/clientTimeouts.js";
import {decimal} from "./parseOptions.js";

/** --connect-timeout and --idle-timeout, in seconds; unset here so the environment can fill them. */
export type ClientTimeoutFlags = {connectTimeout?: number, idleTimeout?: number};

const seconds = decimal(0.001, 86_400);

/** How long a client of a server (--endpoint, or a `mixtral serve` found on this machine) waits. */
export function addClientTimeoutOptions(command: Command) {
    command
        .option("--connect-timeout <s>", `seconds a server may take to start answering: connect, headers, first token (default: ${defaultClientTimeouts.firstByteMs / 1000}; also MIXTRAL_CONNECT_TIMEOUT)`, seconds)
        .option("--idle-timeout <s>", `seconds of silence a server may keep mid-answer (default: ${defaultClientTimeouts.idleMs / 1000}; also MIXTRAL_IDLE_TIMEOUT)`, seconds);
}

function fromEnvironment(name: string, flag: string): number | undefined {
    const value = process.env[name];
    if (value == null || value.trim() === "") return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0)
        throw new UsageError(`${name}="${value}" is not a number of seconds.`, {hint: `Set it to a positive number, e.g. ${name}=600, or pass ${flag}.`});
    return parsed;
}

/** The flags, else the environment, else the defaults; in milliseconds. */
export function clientTimeoutsFrom(flags: ClientTimeoutFlags): ClientTimeouts {
    const connect = flags.connectTimeout ?? fromEnvironment("MIXTRAL_CONNECT_TIMEOUT", "--connect-timeout");
    const idle = flags.idleTimeout ?? fromEnvironment("MIXTRAL_IDLE_TIMEOUT", "--idle-timeout");
    return {
        firstByteMs: connect == null ? defaultClientTimeouts.firstByteMs : connect * 1000,
        idleMs: idle == null ? defaultClientTimeouts.idleMs : idle * 1000
    };
}
