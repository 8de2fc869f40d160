/** Path of Debian's Chromium (or `CHROMIUM_PATH`). */
export declare const CHROMIUM_PATH: string;
/** The launch flags every test and benchmark uses. */
export declare const CHROMIUM_ARGS: string[];
