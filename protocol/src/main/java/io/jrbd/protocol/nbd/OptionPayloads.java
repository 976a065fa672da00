package io.jrbd.protocol.nbd;

import io.netty.buffer.ByteBuf;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Parses the payloads of the options that carry structure: INFO/GO and the meta-context options. */
public final class OptionPayloads {
    /** The spec's limit for export names and meta-context queries. */
    public static final int MAX_STRING_LENGTH = 4096;

    private OptionPayloads() {
    }

    /**
     * <pre>
     * INFO / GO: | name length 4 | name | n 2 | n x info type 2 |
     * </pre>
     */
    public static InfoRequest parseInfo(ByteBuf data) throws MalformedOptionException {
        String name = readString(data, "export name");
        if (data.readableBytes() < 2) {
            throw new MalformedOptionException("INFO/GO payload ends before the count of information requests");
        }
        int count = data.readUnsignedShort();
        if (data.readableBytes() != count * 2) {
            throw new MalformedOptionException("INFO/GO announces " + count + " information requests but carries "
                    + data.readableBytes() + " bytes for them");
        }
        int[] types = new int[count];
        for (int i = 0; i < count; i++) {
            types[i] = data.readUnsignedShort();
        }
        return new InfoRequest(name, types);
    }

    /**
     * <pre>
     * LIST_ / SET_META_CONTEXT: | name length 4 | name | query count 4 | count x (length 4 | query) |
     * </pre>
     */
    public static MetaContextRequest parseMetaContext(ByteBuf data) throws MalformedOptionException {
        String name = readString(data, "export name");
        if (data.readableBytes() < 4) {
            throw new MalformedOptionException("meta-context payload ends before the query count");
        }
        long count = Integer.toUnsignedLong(data.readInt());
        // Each query takes at least its 4-byte length: a larger count cannot be honest.
        if (count * 4 > data.readableBytes()) {
            throw new MalformedOptionException("meta-context payload announces " + count + " queries in "
                    + data.readableBytes() + " bytes");
        }
        List<String> queries = new ArrayList<>((int) count);
        for (long i = 0; i < count; i++) {
            queries.add(readString(data, "meta-context query"));
        }
        if (data.isReadable()) {
            throw new MalformedOptionException("meta-context payload has " + data.readableBytes() + " bytes after its last query");
        }
        return new MetaContextRequest(name, queries);
    }

    private static String readString(ByteBuf data, String what) throws MalformedOptionException {
        if (data.readableBytes() < 4) {
            throw new MalformedOptionException("payload ends before the length of the " + what);
        }
        long length = Integer.toUnsignedLong(data.readInt());
        if (length > MAX_STRING_LENGTH) {
            throw new MalformedOptionException(what + " of " + length + " bytes exceeds " + MAX_STRING_LENGTH);
        }
        if (length > data.readableBytes()) {
            throw new MalformedOptionException(what + " of " + length + " bytes runs past the payload ("
                    + data.readableBytes() + " bytes left)");
        }
        byte[] bytes = new byte[(int) length];
        data.readBytes(bytes);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedOptionException(what + " is not valid UTF-8");
        }
    }

    /** What INFO and GO ask for. */
    public record InfoRequest(String exportName, int[] infoTypes) {
        public boolean asks(int infoType) {
            for (int t : infoTypes) {
                if (t == infoType) {
                    return true;
                }
            }
            return false;
        }
    }

    /** What LIST_META_CONTEXT and SET_META_CONTEXT ask for. */
    public record MetaContextRequest(String exportName, List<String> queries) {
    }
}
