// Argument checks shared by lib/hash: each throws ValidationError naming the field and value.
import { ValidationError } from '../errors.js';

export function checkInt(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(field, value, `must be an integer in ${min}..${max}`);
  }
  return value;
}

type Ctor<T> = { new (n: number): T; name: string };

export function checkArray<T extends { length: number }>(field: string, value: unknown, ctor: Ctor<T>, minLength: number): T {
  if (!(value instanceof (ctor as unknown as Function))) {
    throw new ValidationError(field, value, `must be a ${ctor.name}`);
  }
  const a = value as T;
  if (a.length < minLength) {
    throw new ValidationError(field, value, `must have at least ${minLength} elements (has ${a.length})`);
  }
  return a;
}

export function optArray<T extends { length: number }>(field: string, value: unknown, ctor: Ctor<T>, minLength: number): T | null {
  return value === undefined || value === null ? null : checkArray(field, value, ctor, minLength);
}
