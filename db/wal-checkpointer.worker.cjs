/**
 * The SQLite WAL checkpointer: a worker thread with its own connection that copies committed WAL
 * frames into the database file on a timer (PASSIVE: it never waits for, and never blocks, the
 * writer or the readers), and truncates the WAL to zero bytes once writes have paused. The request
 * thread's connection then never runs a checkpoint (and its fsync) inside a commit.
 * Started by startWalCheckpointer (db/client.server.ts); workerData: { driver, file, everyMs, idleMs }.
 */
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);

const db = new Database(workerData.file, { fileMustExist: true });
// Never wait on a lock: a busy checkpoint is simply tried again on the next tick.
db.pragma("busy_timeout = 0");
let lastLog = -1;
let changedAt = Date.now();
let truncated = false;

function tick() {
  try {
    const [passive] = db.pragma("wal_checkpoint(PASSIVE)");
    if (passive.log !== lastLog) {
      lastLog = passive.log;
      changedAt = Date.now();
      truncated = false;
      return;
    }
    // Quiet for idleMs and fully copied: give the WAL file's space back. TRUNCATE takes the write lock
    // for as long as an ftruncate takes; busy (a write began meanwhile) means try again later.
    if (!truncated && passive.log > 0 && passive.checkpointed === passive.log && Date.now() - changedAt >= workerData.idleMs) {
      const [t] = db.pragma("wal_checkpoint(TRUNCATE)");
      if (!t.busy) {
        truncated = true;
        lastLog = 0;
      }
    }
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message ? e.message : e) });
  }
}

const timer = setInterval(tick, workerData.everyMs);
parentPort.on("message", (m) => {
  if (m !== "stop") return;
  clearInterval(timer);
  db.close();
  // Nothing is left to keep the thread alive: it exits, and the parent sees its "exit".
  parentPort.close();
});
