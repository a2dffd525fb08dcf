/** What a worker tells the primary over the cluster's IPC channel (prom-client's metrics requests are its own). */
export interface ListeningMessage {
  type: 'gateway:listening';
  url: string;
}

export const listeningMessage = (url: string): ListeningMessage => ({ type: 'gateway:listening', url });

export function isListeningMessage(message: unknown): message is ListeningMessage {
  return (
    typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'gateway:listening'
  );
}
