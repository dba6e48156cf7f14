// One opener per IndexedDB database of this origin: opened once per page, created or
// upgraded by the caller's `upgrade(db)` when its version is new.

export function database(name, version, upgrade) {
  let opening = null;
  return function open() {
    if (!opening) {
      opening = new Promise((resolve, reject) => {
        const request = indexedDB.open(name, version);
        request.onupgradeneeded = () => upgrade(request.result);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    return opening;
  };
}
