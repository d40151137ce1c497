// The library's own failures, each with a code the contract passes on.
export class LibraryError extends Error {
  constructor(readonly code: 'not-found' | 'not-a-folder' | 'no-pack' | 'nothing-indexed' | 'not-indexed' | 'invalid', message: string) {
    super(message);
    this.name = 'LibraryError';
  }
}
