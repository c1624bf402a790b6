import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writing files so that a reader sees either the old file or the whole new one, never a part.
public enum AtomicFile {
  /// Writes `bytes` to `url` through a temporary file in the same folder, flushed to disk and
  /// then renamed over the destination. On failure the temporary file is removed and the
  /// destination is left as it was.
  public static func write(_ bytes: [UInt8], to url: URL) throws(CheckpointError) {
    let path = url.path
    let folder = url.deletingLastPathComponent().path
    var template = Array((folder + "/.\(url.lastPathComponent).tmp-XXXXXX").utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard descriptor >= 0 else {
      throw CheckpointError(
        .unwritable, path: path,
        reason: "cannot create a temporary file in \(folder): \(systemErrorText())")
    }
    let temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }

    func abandon(_ reason: String) -> CheckpointError {
      close(descriptor)
      unlink(temporaryPath)
      return CheckpointError(.unwritable, path: path, reason: reason)
    }

    var written = 0
    while written < bytes.count {
      let result = bytes.withUnsafeBytes { buffer in
        systemWrite(descriptor, buffer.baseAddress! + written, bytes.count - written)
      }
      if result < 0 {
        if errno == EINTR { continue }
        throw abandon("write failed: \(systemErrorText())")
      }
      written += result
    }
    guard fsync(descriptor) == 0 else {
      throw abandon("flushing to disk failed: \(systemErrorText())")
    }
    // mkstemp creates the file readable by its owner only; give it the usual permissions.
    let mask = umask(0)
    umask(mask)
    fchmod(descriptor, 0o666 & ~mask)
    guard close(descriptor) == 0 else {
      unlink(temporaryPath)
      throw CheckpointError(
        .unwritable, path: path, reason: "closing failed: \(systemErrorText())")
    }
    guard rename(temporaryPath, path) == 0 else {
      let reason = systemErrorText()
      unlink(temporaryPath)
      throw CheckpointError(.unwritable, path: path, reason: "rename failed: \(reason)")
    }
  }
}

/// POSIX `write`, reachable from inside `AtomicFile.write` whose name hides it.
private func systemWrite(_ descriptor: Int32, _ start: UnsafeRawPointer, _ count: Int) -> Int {
  write(descriptor, start, count)
}

/// The C library's description of the current `errno`.
private func systemErrorText() -> String {
  String(cString: strerror(errno))
}
