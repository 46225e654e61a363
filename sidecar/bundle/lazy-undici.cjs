// What client-node's config.js and generated fetch client import from undici, loaded on first
// use. The sidecar never calls them (it makes its own requests with KubeConfig's credentials),
// and evaluating undici at start costs several MB of memory. See esbuild.mjs.
'use strict';
let undici;
const load = () => (undici ??= require('undici'));
class Agent {
  constructor(...args) {
    return new (load().Agent)(...args);
  }
}
class ProxyAgent {
  constructor(...args) {
    return new (load().ProxyAgent)(...args);
  }
}
module.exports = { Agent, ProxyAgent, fetch: (...args) => load().fetch(...args) };
