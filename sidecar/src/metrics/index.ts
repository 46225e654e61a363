/** Metrics and logs of the engine: traffic meters, HTTP/1.x sniffing, event log, throttling. */
export { systemClock, type Clock, type Timer } from './clock.js';
export { EventLog, type EventDetails, type EventListener, type EventLogOptions } from './events.js';
export { HttpSniffer, type HttpExchange, type HttpSnifferOptions } from './http.js';
export { MetricsRegistry, TrafficMeter, type MetricsRegistryOptions, type SampleListener } from './meter.js';
export { Ring } from './ring.js';
export { KeyedThrottle, Throttle, type BufferedThrottleOptions, type ThrottleOptions } from './throttle.js';
