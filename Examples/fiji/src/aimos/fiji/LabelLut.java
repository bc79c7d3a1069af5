package aimos.fiji;

import ij.process.LUT;

/**
 * A glasbey-like lookup table for label images: 0 (background) is black, every other index
 * gets a colour far from its neighbours, so adjacent organs stay distinguishable.
 */
public final class LabelLut {
    // Hand-picked, well separated colours for the first labels (the AIMOS organs fit in these).
    private static final int[] FIRST = {
        0x000000, 0x0000FF, 0xFF0000, 0x00FF00, 0xFFD700, 0xFF00FF, 0x00FFFF, 0xFF8000,
        0x8000FF, 0x008040, 0xA05020, 0xFF80C0, 0x0080FF, 0x80FF80, 0x800000, 0x808000,
    };
    private static final double GOLDEN_RATIO_CONJUGATE = 0.618033988749895;

    private LabelLut() {
    }

    /** The 256-entry table. */
    public static LUT create() {
        byte[] red = new byte[256];
        byte[] green = new byte[256];
        byte[] blue = new byte[256];
        double hue = 0.1;
        for (int index = 0; index < 256; index++) {
            int rgb;
            if (index < FIRST.length) {
                rgb = FIRST[index];
            } else {
                // Hues stepped by the golden ratio never come back close to each other;
                // alternating brightness separates neighbours further.
                hue = (hue + GOLDEN_RATIO_CONJUGATE) % 1.0;
                rgb = java.awt.Color.HSBtoRGB((float) hue, 0.85f, index % 2 == 0 ? 1.0f : 0.65f) & 0xFFFFFF;
            }
            red[index] = (byte) (rgb >> 16);
            green[index] = (byte) (rgb >> 8);
            blue[index] = (byte) rgb;
        }
        return new LUT(red, green, blue);
    }
}
