export { createFakeClock, type FakeClock } from "./fake-clock.js";
export { ADDRESSES, testGeoLocator } from "./places.js";
