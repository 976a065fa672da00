package io.jrbd.protocol.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * One option of the handshake: its code and its whole payload. The receiver owns the payload
 * and releases it (this holder is reference counted).
 */
public final class OptionRequest extends DefaultByteBufHolder {
    private final int option;

    public OptionRequest(int option, ByteBuf data) {
        super(data);
        this.option = option;
    }

    public int option() {
        return option;
    }

    public ByteBuf data() {
        return content();
    }

    @Override
    public String toString() {
        return NbdOption.name(option) + " (" + content().readableBytes() + " bytes)";
    }
}
