/**
 * True when `value` written as JSON would take at most `limit` characters, roughly (strings
 * and numbers by their length, two for each structure and separator). It stops as soon as the
 * count passes the limit, so asking about a 10 MB payload costs as little as asking about a
 * small one: it decides whether work on the value is cheap enough for the event loop.
 */
export function jsonFitsIn(value: unknown, limit: number): boolean {
  let budget = limit;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') budget -= item.length + 2;
    else if (typeof item === 'number') budget -= 8;
    else if (item === null || typeof item !== 'object') budget -= 5;
    else if (Array.isArray(item)) {
      budget -= 2 + item.length;
      if (budget < 0) return false;
      for (const element of item) stack.push(element);
    } else {
      for (const [key, inner] of Object.entries(item)) {
        budget -= key.length + 4;
        if (budget < 0) return false;
        stack.push(inner);
      }
      budget -= 2;
    }
    if (budget < 0) return false;
  }
  return true;
}
