export { ACCEPTED_IMAGE_FORMATS, type AcceptedImageFormat } from './formats';
export { DEFAULT_IMAGE_LIMITS, checkDimensions, type ImageLimits } from './limits';
export { sniffImage, type ImageHeader } from './sniff';
export { decodeToGray, decodeToRgba, type RgbaImage } from './decode';
export { rgbaToGray, type GrayImage } from './gray';
export { mnistDigitInput, MNIST_SIDE } from './digit';
export { prepareInput, type Preprocessing } from './prepare';
