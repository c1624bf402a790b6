/// Encoding: PNG grey/RGB with and without alpha at 8 and 16 bits, JPEG quality and chroma
/// subsampling, alpha over white for JPEG, and atomic writes.
import Foundation
import Testing

@testable import ImageIO

/// Samples on the 8- or 16-bit grid, so that a lossless round trip must reproduce them.
func gridImage(width: Int, height: Int, channels: Int, alpha: Bool, bitDepth: Int) -> Image {
  let maximum = bitDepth == 16 ? 65535 : 255
  let count = channels * width * height
  let pixels = (0..<count).map { Float(($0 * 7919) % (maximum + 1)) / Float(maximum) }
  let alphaPlane = (0..<(width * height)).map {
    Float(($0 * 104_729) % (maximum + 1)) / Float(maximum)
  }
  return Image(
    width: width, height: height, colorChannels: channels, pixels: pixels,
    alpha: alpha ? alphaPlane : nil, bitDepth: bitDepth)
}

/// The JPEG's SOF0 component sampling factors, (horizontal, vertical) per component.
func jpegSamplingFactors(_ bytes: [UInt8]) -> [(Int, Int)] {
  var index = 2
  while index + 4 < bytes.count, bytes[index] == 0xFF {
    let marker = bytes[index + 1]
    let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
    if marker == 0xC0 || marker == 0xC2 {
      let components = Int(bytes[index + 9])
      return (0..<components).map { component in
        let factors = bytes[index + 11 + 3 * component]
        return (Int(factors >> 4), Int(factors & 0x0F))
      }
    }
    index += 2 + length
  }
  return []
}

func folderEntries(_ folder: FilePath) -> [String] {
  (try? FileManager.default.contentsOfDirectory(atPath: folder.description).sorted()) ?? []
}

@Suite struct EncodingTests {
  @Test(arguments: [
    (1, false, 8), (1, true, 8), (3, false, 8), (3, true, 8), (1, false, 16), (1, true, 16),
    (3, false, 16), (3, true, 16),
  ])
  func pngRoundTripsExactly(_ channels: Int, _ hasAlpha: Bool, _ bitDepth: Int) throws {
    let image = gridImage(
      width: 7, height: 5, channels: channels, alpha: hasAlpha, bitDepth: bitDepth)
    let path = temporaryFolder().appending("out.png")
    try image.write(to: path, as: .png())
    let back = try Image(contentsOf: path)
    #expect(back.colorChannels == channels && back.bitDepth == bitDepth)
    #expect((back.alpha != nil) == hasAlpha)
    #expect(integerSamples(back) == integerSamples(image))
    let info = try ImageInfo(contentsOf: path)
    #expect(info.bitDepth == bitDepth && info.hasAlpha == hasAlpha)
  }

  @Test func pngBitDepthCanBeChosen() throws {
    let deep = gridImage(width: 4, height: 4, channels: 3, alpha: false, bitDepth: 16)
    let path = temporaryFolder().appending("eight.png")
    try deep.write(to: path, as: .png(bitDepth: 8))
    let back = try Image(contentsOf: path)
    #expect(back.bitDepth == 8)
    let (difference, index) = worstDifference(back.pixels, deep.pixels)
    #expect(difference <= 0.5 / 255 + 1e-6, "worst \(difference) at \(index)")
  }

  @Test(arguments: ChromaSubsampling.allCases)
  func jpegWritesTheChosenSubsampling(_ subsampling: ChromaSubsampling) throws {
    let image = gridImage(width: 16, height: 16, channels: 3, alpha: false, bitDepth: 8)
    let bytes = try image.encoded(as: .jpeg(quality: 90, subsampling: subsampling))
    let factors = jpegSamplingFactors(bytes)
    let expected: (Int, Int) =
      switch subsampling {
      case .s444: (1, 1)
      case .s422: (2, 1)
      case .s420: (2, 2)
      }
    #expect(factors.count == 3)
    #expect(factors.first?.0 == expected.0 && factors.first?.1 == expected.1)
    #expect(factors.dropFirst().allSatisfy { $0 == (1, 1) })
  }

  @Test func jpegQualityTradesSizeForFidelity() throws {
    let folder = temporaryFolder()
    let photo = try Image(contentsOf: conformancePath("jpeg/testorig.jpg"))
    var sizes: [Int] = []
    var errors: [Float] = []
    for quality in [30, 95] {
      let path = folder.appending(FilePath("q\(quality).jpg"))
      try photo.write(to: path, as: .jpeg(quality: quality, subsampling: .s444))
      let back = try Image(contentsOf: path)
      sizes.append(try readImageFile(path).count)
      var squared: Float = 0
      for (ours, original) in zip(back.pixels, photo.pixels) {
        squared += (ours - original) * (ours - original)
      }
      errors.append((squared / Float(photo.pixels.count)).squareRoot())
    }
    #expect(sizes[0] < sizes[1], "sizes \(sizes)")
    #expect(errors[0] > errors[1] && errors[1] < 0.02, "RMS errors \(errors)")
  }

  @Test func jpegCompositesAlphaOverWhite() throws {
    // Left pixel opaque black, right pixel fully transparent black, 8×8 so JPEG keeps it flat.
    var alpha = [Float](repeating: 1, count: 64)
    for y in 0..<8 { for x in 4..<8 { alpha[y * 8 + x] = 0 } }
    let image = Image(
      width: 8, height: 8, colorChannels: 3, pixels: [Float](repeating: 0, count: 192),
      alpha: alpha)
    let path = temporaryFolder().appending("flat.jpg")
    try image.write(to: path, as: .jpeg(quality: 100, subsampling: .s444))
    let back = try Image(contentsOf: path)
    #expect(back.alpha == nil)
    #expect(back.sample(channel: 0, x: 0, y: 0) < 0.1)
    #expect(back.sample(channel: 1, x: 7, y: 7) > 0.9)
  }

  @Test func writesAreAtomicAndLeaveNoTemporaryFiles() throws {
    let folder = temporaryFolder()
    let path = folder.appending("image.png")
    let first = gridImage(width: 3, height: 3, channels: 1, alpha: false, bitDepth: 8)
    try first.write(to: path, as: .png())
    let second = gridImage(width: 5, height: 2, channels: 3, alpha: false, bitDepth: 8)
    try second.write(to: path, as: .png())
    #expect(folderEntries(folder) == ["image.png"])
    #expect(try Image(contentsOf: path).width == 5)

    var status = stat()
    #expect(path.withCString { stat($0, &status) } == 0)
    // The umask, read without changing it (changing it would race with other tests).
    let procStatus = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let umaskLine = procStatus.split(separator: "\n").first { $0.hasPrefix("Umask:") }
    let mask = umaskLine.flatMap {
      mode_t($0.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8)
    }
    #expect(mask != nil)
    #expect(status.st_mode & 0o777 == 0o666 & ~(mask ?? 0))
  }

  @Test func longNamesGetAShortenedTemporaryName() throws {
    let folder = temporaryFolder()
    let path = folder.appending(FilePath(String(repeating: "n", count: 251) + ".png"))
    try gridImage(width: 2, height: 2, channels: 1, alpha: false, bitDepth: 8)
      .write(to: path, as: .png())
    #expect(folderEntries(folder) == [path.lastComponent.description])
  }

  @Test func failedWritesLeaveTheDestinationAlone() throws {
    let folder = temporaryFolder()
    let image = gridImage(width: 3, height: 3, channels: 1, alpha: false, bitDepth: 8)

    let missing = folder.appending("no-such-folder/out.png")
    #expect(throws: ImageIOError.self) { try image.write(to: missing, as: .png()) }

    // The destination is a non-empty folder: rename fails, the temporary file is removed.
    let blocked = folder.appending("blocked.png")
    #expect(blocked.withCString { mkdir($0, 0o755) } == 0)
    try writeAtomically([1, 2, 3], to: blocked.appending("keep"))
    do {
      try image.write(to: blocked, as: .png())
      Issue.record("writing over a folder succeeded")
    } catch {
      #expect(error.path == blocked)
      if case .writeFailed = error {} else { Issue.record("unexpected \(error)") }
    }
    #expect(folderEntries(folder) == ["blocked.png"])
    #expect(folderEntries(blocked) == ["keep"])
  }
}
