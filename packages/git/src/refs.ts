// The rule lives in core (one rule for every ref a request names); git re-exports it.
export { assertRefName } from '@simpledeploy/core';
