import CZip

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Zip archives held in memory, read and written through libzip.
enum ZipArchive {
  /// An entry of an archive: its name and its uncompressed contents.
  struct Entry {
    let name: String
    let contents: [UInt8]
  }

  /// The most bytes the entries of one archive may unpack to by default: half the machine's
  /// memory. `torch.save` stores its records uncompressed, but a small archive of deflated
  /// zeros (a zip bomb) may claim up to a thousand times its size, which would exhaust memory.
  static var defaultUnpackedLimit: UInt64 {
    UInt64(max(sysconf(Int32(_SC_PHYS_PAGES)), 0)) * UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 0))
      / 2
  }

  /// The entries of the archive in `bytes` that `keeping` accepts (given each entry's name and
  /// the uncompressed size its header claims), in the order of its central directory, each
  /// decompressed and checked against its CRC; the others are not decompressed. `path` names
  /// the file in errors. When the kept entries together claim more than `unpackedLimit` bytes,
  /// the archive is refused before any is read.
  static func entries(
    of bytes: [UInt8], path: String, unpackedLimit: UInt64 = defaultUnpackedLimit,
    keeping: (_ name: String, _ size: UInt64) -> Bool = { _, _ in true }
  ) throws(CheckpointError) -> [Entry] {
    let result: Result<[Entry], CheckpointError> = bytes.withUnsafeBytes { raw in
      var error = zip_error_t()
      zip_error_init(&error)
      defer { zip_error_fini(&error) }
      guard
        let source = zip_source_buffer_create(raw.baseAddress, zip_uint64_t(raw.count), 0, &error)
      else {
        return .failure(failure(path, "cannot read the zip archive", &error))
      }
      guard let archive = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error) else {
        zip_source_free(source)
        return .failure(failure(path, "cannot open the zip archive", &error))
      }
      defer { zip_discard(archive) }

      var entries: [Entry] = []
      let count = zip_get_num_entries(archive, 0)
      var claimed: UInt64 = 0
      var kept = Set<zip_uint64_t>()
      for index in 0..<zip_uint64_t(max(count, 0)) {
        var stat = zip_stat_t()
        zip_stat_init(&stat)
        if zip_stat_index(archive, index, 0, &stat) == 0, let namePointer = stat.name,
          stat.valid & zip_uint64_t(ZIP_STAT_SIZE) != 0
        {
          guard keeping(String(cString: namePointer), stat.size) else { continue }
          let (sum, overflow) = claimed.addingReportingOverflow(stat.size)
          claimed = overflow ? .max : sum
        }
        // An entry whose header cannot be read is kept, to be reported below.
        kept.insert(index)
      }
      guard claimed <= unpackedLimit else {
        return .failure(
          CheckpointError(
            .unsupported, path: path,
            reason: "the zip archive's records would unpack to \(claimed >> 20) MiB, more than"
              + " the \(unpackedLimit >> 20) MiB Transmute allows for them; torch.save stores its"
              + " records uncompressed, so this is not a checkpoint as PyTorch writes it"))
      }
      for index in 0..<zip_uint64_t(max(count, 0)) where kept.contains(index) {
        var stat = zip_stat_t()
        zip_stat_init(&stat)
        guard zip_stat_index(archive, index, 0, &stat) == 0, let namePointer = stat.name,
          stat.valid & zip_uint64_t(ZIP_STAT_SIZE) != 0
        else {
          return .failure(failure(path, "cannot read entry \(index)", zip_get_error(archive)))
        }
        let name = String(cString: namePointer)
        // A stored size far beyond the archive's own is a corrupt or hostile header.
        guard stat.size <= zip_uint64_t(raw.count) * 1032 + 1024 else {
          return .failure(
            CheckpointError(
              .malformed, path: path,
              reason: "zip entry \(name) claims \(stat.size) bytes, far more than the archive"))
        }
        guard let file = zip_fopen_index(archive, index, 0) else {
          return .failure(failure(path, "cannot open zip entry \(name)", zip_get_error(archive)))
        }
        var contents = [UInt8](repeating: 0, count: Int(stat.size))
        var filled = 0
        var readError: CheckpointError?
        contents.withUnsafeMutableBytes { buffer in
          while filled < buffer.count {
            let got = zip_fread(
              file, buffer.baseAddress! + filled, zip_uint64_t(buffer.count - filled))
            if got <= 0 {
              readError = failure(path, "cannot read zip entry \(name)", zip_file_get_error(file))
              return
            }
            filled += Int(got)
          }
        }
        if let readError {
          zip_fclose(file)
          return .failure(readError)
        }
        // Closing reports a CRC mismatch found at the end of the entry.
        let closed = zip_fclose(file)
        guard closed == 0 else {
          var closeError = zip_error_t()
          zip_error_init_with_code(&closeError, closed)
          defer { zip_error_fini(&closeError) }
          return .failure(failure(path, "zip entry \(name) is damaged", &closeError))
        }
        entries.append(Entry(name: name, contents: contents))
      }
      return .success(entries)
    }
    return try result.get()
  }

  /// The bytes of a zip archive holding `entries` in order, stored without compression.
  static func archive(_ entries: [Entry], path: String) throws(CheckpointError) -> [UInt8] {
    var error = zip_error_t()
    zip_error_init(&error)
    defer { zip_error_fini(&error) }
    guard let target = zip_source_buffer_create(nil, 0, 0, &error) else {
      throw failure(path, "cannot create a zip archive", &error, kind: .unwritable)
    }
    zip_source_keep(target)
    defer { zip_source_free(target) }
    guard let archive = zip_open_from_source(target, ZIP_TRUNCATE, &error) else {
      throw failure(path, "cannot create a zip archive", &error, kind: .unwritable)
    }

    for entry in entries {
      // libzip frees the copy (the last argument) once the archive is written.
      let copy = malloc(max(entry.contents.count, 1))!
      entry.contents.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
      guard let source = zip_source_buffer(archive, copy, zip_uint64_t(entry.contents.count), 1)
      else {
        free(copy)
        let reason = failure(
          path, "cannot add \(entry.name)", zip_get_error(archive), kind: .unwritable)
        zip_discard(archive)
        throw reason
      }
      let index = zip_file_add(archive, entry.name, source, zip_flags_t(ZIP_FL_ENC_UTF_8))
      guard index >= 0, zip_set_file_compression(archive, zip_uint64_t(index), ZIP_CM_STORE, 0) == 0
      else {
        if index < 0 { zip_source_free(source) }
        let reason = failure(
          path, "cannot add \(entry.name)", zip_get_error(archive), kind: .unwritable)
        zip_discard(archive)
        throw reason
      }
    }
    guard zip_close(archive) == 0 else {
      let reason = failure(
        path, "cannot write the zip archive", zip_get_error(archive), kind: .unwritable)
      zip_discard(archive)
      throw reason
    }

    // Read the finished archive back out of the memory source.
    guard zip_source_open(target) == 0 else {
      throw failure(
        path, "cannot read the written archive", zip_source_error(target), kind: .unwritable)
    }
    defer { zip_source_close(target) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let got = chunk.withUnsafeMutableBytes {
        zip_source_read(target, $0.baseAddress, zip_uint64_t($0.count))
      }
      if got < 0 {
        throw failure(
          path, "cannot read the written archive", zip_source_error(target), kind: .unwritable)
      }
      if got == 0 { break }
      bytes += chunk[0..<Int(got)]
    }
    return bytes
  }

  /// A `CheckpointError` carrying libzip's explanation. Opening failures of an archive that
  /// has lost its end (no central directory, inconsistent sizes) read as truncation.
  private static func failure(
    _ path: String, _ what: String, _ error: UnsafeMutablePointer<zip_error_t>?,
    kind: CheckpointError.Kind? = nil
  ) -> CheckpointError {
    let message =
      error.flatMap { zip_error_strerror($0) }.map { String(cString: $0) } ?? "unknown error"
    let code = error.map { zip_error_code_zip($0) } ?? 0
    let resolvedKind =
      kind
      ?? ([ZIP_ER_NOZIP, ZIP_ER_INCONS, ZIP_ER_EOF, ZIP_ER_SEEK].contains(code)
        ? .truncated : .malformed)
    let reason =
      resolvedKind == .truncated
      ? "\(what): the file is incomplete or damaged (libzip: \(message))"
      : "\(what): \(message)"
    return CheckpointError(resolvedKind, path: path, reason: reason)
  }
}
