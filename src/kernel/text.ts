import { badRequest } from './errors.js';

/** An optional text field: '' when absent, a 400 naming the field when not a string or too long. */
export function optionalText(field: string, value: unknown, max: number): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw badRequest(`${field} must be a string`);
  if (value.length > max) throw badRequest(`${field} is longer than ${max} characters`);
  return value;
}
