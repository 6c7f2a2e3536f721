/**
 * The API's types by name, from the generated openapi-types.ts: no DOM and no code, so modules
 * that only shape data (the meter-type draft, the aggregation words) run in Node's tests too.
 */
import type { components } from './openapi-types.js';

export type Schemas = components['schemas'];
export type MeterType = Schemas['MeterType'];
export type MeterTypeCreate = Schemas['MeterTypeCreate'];
export type Meter = Schemas['Meter'];
export type MeteredRecord = Schemas['MeteredRecord'];
export type MeteredRecordList = Schemas['MeteredRecordList'];
export type DataCorrection = Schemas['DataCorrection'];
export type Stream = Schemas['Stream'];
export type StreamConfiguration = Schemas['StreamConfiguration'];
export type ErrorBody = Schemas['Error'];
export type FieldIssue = NonNullable<ErrorBody['issues']>[number];
export type ResetSchedule = Schemas['ResetSchedule'];
export type Warning = NonNullable<Schemas['MeterTypeWithWarnings']['warnings']>[number];
