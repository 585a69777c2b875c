import {Ajv} from "ajv";
import {expect} from "vitest";

// Two tools every dialect's tool tests offer, and the check that a call of them is valid.

export const weatherParameters = {
    type: "object",
    properties: {
        city: {type: "string", maxLength: 24},
        unit: {type: "string", enum: ["celsius", "fahrenheit"]},
        days: {type: "integer"},
        hourly: {type: "boolean"}
    },
    required: ["city", "unit"],
    additionalProperties: false
};

export const timeParameters = {
    type: "object",
    properties: {zone: {type: "string", enum: ["UTC", "CET", "PST"]}, exact: {type: "boolean"}},
    required: ["zone"],
    additionalProperties: false
};

/** The tools as a list of name, description and schema (each dialect wraps them its way). */
export const toolSpecs = [
    {name: "get_weather", description: "The weather forecast for a city.", parameters: weatherParameters},
    {name: "get_time", description: "The current time in a time zone.", parameters: timeParameters}
];

const ajv = new Ajv({strict: true});
const validators: Record<string, ReturnType<Ajv["compile"]>> = {get_weather: ajv.compile(weatherParameters), get_time: ajv.compile(timeParameters)};

/** A call names one of `names` (both tools when not given) and its arguments validate against that tool's schema. */
export function expectValidCall(name: string, args: unknown, names = Object.keys(validators)) {
    expect(names).toContain(name);
    const validate = validators[name]!;
    expect(validate(args), `${JSON.stringify(args)} ${JSON.stringify(validate.errors)}`).toBe(true);
}
