package io.jrbd.nbd.control;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Splits a byte stream into {@code \n}-terminated lines of at most {@code maxLine} bytes, without
 * allocating more than that: the cap is checked before any line is copied out.
 *
 * <pre>
 *   buffer (write mode):  | line 1 \n | line 2 \n | part of line 3 |  free  |
 *                         0                                        position  capacity
 *   readLine() returns "line 1" and compacts:  | line 2 \n | part of line 3 |  free ...
 * </pre>
 *
 * Not thread-safe: one reader per connection, used by the thread that owns the connection.
 */
final class LineReader {
    /** The peer sent more than the limit without a newline. */
    static final class LineTooLongException extends IOException {
        private static final long serialVersionUID = 1L;

        LineTooLongException(int limit) {
            super("line longer than " + limit + " bytes");
        }
    }

    private final int maxLine;
    private final ByteBuffer buf;
    private int scanned;

    LineReader(int maxLine) {
        this.maxLine = maxLine;
        this.buf = ByteBuffer.allocate(maxLine + 2); // room for "\r\n" after a line of maxLine bytes
    }

    /**
     * The next line without its {@code \n} (or {@code \r\n}); null at end of stream (a partial last
     * line is dropped). Blocks on a blocking channel.
     */
    byte[] readLine(ReadableByteChannel ch) throws IOException {
        while (true) {
            byte[] line = takeLine();
            if (line != null) {
                return line;
            }
            if (!buf.hasRemaining()) {
                throw new LineTooLongException(maxLine);
            }
            if (ch.read(buf) < 0) {
                return null;
            }
        }
    }

    /**
     * Reads what is available into the buffer without waiting (the channel must be non-blocking):
     * -1 at end of stream, else the bytes read (0 when nothing is there or the buffer is full).
     */
    int fill(ReadableByteChannel ch) throws IOException {
        return buf.hasRemaining() ? ch.read(buf) : 0;
    }

    private byte[] takeLine() throws LineTooLongException {
        int end = buf.position();
        for (int i = scanned; i < end; i++) {
            if (buf.get(i) == '\n') {
                int len = i > 0 && buf.get(i - 1) == '\r' ? i - 1 : i;
                if (len > maxLine) {
                    throw new LineTooLongException(maxLine);
                }
                byte[] line = new byte[len];
                buf.get(0, line, 0, len);
                buf.flip();
                buf.position(i + 1);
                buf.compact();
                scanned = 0;
                return line;
            }
        }
        scanned = end;
        return null;
    }
}
