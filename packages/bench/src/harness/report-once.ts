/**
 * A measuring worker that reports once: start it, take its first message as the result, and
 * terminate it. Used by the wake measurements and the hiccup meter. Thread: main.
 */
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker at `url` with `workerData`, resolves with its first message and terminates it.
 * Rejects when it throws, or exits before reporting (`what` names it in the error).
 */
export function reportOnce<T>(url: URL, workerData: unknown, what: string): Promise<T> {
  const worker = new Worker(url, { workerData });
  return new Promise<T>((resolve, reject) => {
    worker.once('message', (m: T) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`${what} exited with code ${code} before reporting`)));
  });
}
