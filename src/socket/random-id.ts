/** A random id for messages and requests (32 hex characters; fewer where `crypto.randomUUID` is missing). */
export const randomId = (): string => (crypto.randomUUID?.() ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`).replaceAll('-', '');
