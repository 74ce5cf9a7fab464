// Moved to protocol/messages.ts; this re-export goes once every caller imports from there.
export * from '../protocol/messages.js';
