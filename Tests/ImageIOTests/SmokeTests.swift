import Foundation
import Testing

@testable import ImageIO

@Test func decodesAnRGBPNGAndAJPEG() throws {
  let png = try Image(
    contentsOf: sharedFolder.appendingPathComponent("conformance/pngsuite/basn2c08.png"))
  #expect(png.width == 32 && png.height == 32 && png.colorChannels == 3 && png.alpha == nil)
  #expect(png.format == .png && png.bitDepth == 8)

  let jpeg = try Image(
    contentsOf: sharedFolder.appendingPathComponent("conformance/jpeg/testorig.jpg"))
  #expect(jpeg.width == 227 && jpeg.height == 149 && jpeg.colorChannels == 3)
  #expect(jpeg.format == .jpeg)
}

@Test func roundTripsPNG16AndJPEG() throws {
  let folder = temporaryFolder()
  let width = 5
  let height = 3
  let pixels = (0..<(3 * width * height)).map { Float($0) / Float(3 * width * height - 1) }
  let image = Image(width: width, height: height, colorChannels: 3, pixels: pixels, bitDepth: 16)
  let path = folder.appending("out.png")
  try image.write(to: path, as: .png())
  let back = try Image(contentsOf: path)
  #expect(back.bitDepth == 16)
  let worst = zip(back.pixels, pixels).map { abs($0 - $1) }.max() ?? 1
  #expect(worst <= 0.5 / 65535 + 1e-7)

  let jpegPath = folder.appending("out.jpg")
  try image.write(to: jpegPath, as: .jpeg(quality: 100, subsampling: .s444))
  let jpeg = try Image(contentsOf: jpegPath)
  #expect(jpeg.width == width && jpeg.height == height && jpeg.format == .jpeg)
}

@Test func tensorRoundTrip() {
  let image = Image(width: 2, height: 1, colorChannels: 1, pixels: [0, 1])
  let tensor = image.tensor(channels: 3)
  #expect(tensor.shape == [1, 3, 1, 2])
  #expect(tensor.scalars == [-1, 1, -1, 1, -1, 1])
  let back = Image(tensor: tensor)
  #expect(back.colorChannels == 3 && back.pixels == [0, 1, 0, 1, 0, 1])
}
