// Preloaded (`node --import`) into relay processes that tests start: when the test worker that
// started the relay dies without cleaning up (a timeout, a crash), the relay is re-parented and
// would keep running, holding its port and storage and loading the machine. It exits instead.
const parent = process.ppid
setInterval(() => {
  if (process.ppid !== parent) process.exit(0)
}, 1000).unref()
