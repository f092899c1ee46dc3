/**
 * What an API key may do (SPEC §8): each route asks for one of these scopes. The list comes from
 * the SDK's vocabulary, the one module outside domain/ the domain may import (it imports nothing
 * itself), so the server and the SDK's key schemas share it.
 */
export { SCOPES, type Scope } from '@tasklane/sdk/vocabulary';
