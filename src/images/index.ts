export { ACCEPTED_IMAGE_FORMATS, IMAGE_DECODERS, acceptedFormats, type AcceptedImageFormat, type ImageDecoderName } from './formats';
export { activeDecoder } from './codec-rule';
export { loadSharp } from './sharp-loader';
export { DEFAULT_IMAGE_LIMITS, checkDimensions, type ImageLimits } from './limits';
export { sniffImage, type ImageHeader } from './sniff';
export { decodeToGray, decodeToRgba, type DecodeOptions, type RgbaImage, type ShrinkHint } from './decode';
export { rgbaToGray, type GrayImage } from './gray';
export { mnistDigitInput, MNIST_SIDE } from './digit';
export { prepareInput, type Preprocessing } from './prepare';
