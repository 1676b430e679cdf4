// Placeholder for the in-repository typecheck: scripts/consumer-smoke.mjs writes the real file, one
// namespace import per subpath of every packed package's exports map.
export const modules: Record<string, object> = {};
