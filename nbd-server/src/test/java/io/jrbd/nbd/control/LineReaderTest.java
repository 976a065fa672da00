package io.jrbd.nbd.control;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.Test;

class LineReaderTest {
    /** Hands out the given chunks one read at a time, then end of stream. */
    private static ReadableByteChannel chunks(String... parts) {
        Deque<ByteBuffer> queue = new ArrayDeque<>();
        for (String p : parts) {
            queue.add(ByteBuffer.wrap(p.getBytes(UTF_8)));
        }
        return new ReadableByteChannel() {
            @Override
            public int read(ByteBuffer dst) {
                ByteBuffer next = queue.peek();
                if (next == null) {
                    return -1;
                }
                int n = Math.min(dst.remaining(), next.remaining());
                ByteBuffer slice = next.slice();
                slice.limit(n);
                dst.put(slice);
                next.position(next.position() + n);
                if (!next.hasRemaining()) {
                    queue.poll();
                }
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
    }

    private static String text(byte[] line) {
        return line == null ? null : new String(line, UTF_8);
    }

    @Test
    void shouldReassembleLinesSplitAcrossReads() throws Exception {
        LineReader r = new LineReader(64);
        ReadableByteChannel ch = chunks("{\"com", "mand\":\"a\"}\n{\"b\"", ":1}\r\n", "\n", "tail without newline");
        assertEquals("{\"command\":\"a\"}", text(r.readLine(ch)));
        assertEquals("{\"b\":1}", text(r.readLine(ch)));
        assertEquals("", text(r.readLine(ch)));
        assertNull(r.readLine(ch), "a partial last line is dropped at end of stream");
    }

    @Test
    void shouldSplitSeveralLinesFromOneRead() throws Exception {
        LineReader r = new LineReader(64);
        ReadableByteChannel ch = chunks("a\nbb\nccc\n");
        assertEquals("a", text(r.readLine(ch)));
        assertEquals("bb", text(r.readLine(ch)));
        assertEquals("ccc", text(r.readLine(ch)));
        assertNull(r.readLine(ch));
    }

    @Test
    void shouldAcceptALineOfExactlyTheLimitWithOrWithoutCarriageReturn() throws Exception {
        LineReader r = new LineReader(8);
        ReadableByteChannel ch = chunks("12345678\n", "abcdefgh\r\n", "x\n");
        assertEquals("12345678", text(r.readLine(ch)));
        assertEquals("abcdefgh", text(r.readLine(ch)));
        assertEquals("x", text(r.readLine(ch)));
    }

    @Test
    void shouldRejectALineOverTheLimit() {
        LineReader r = new LineReader(8);
        assertThrows(LineReader.LineTooLongException.class, () -> r.readLine(chunks("123456789\n")));
        LineReader r2 = new LineReader(8);
        assertThrows(LineReader.LineTooLongException.class, () -> r2.readLine(chunks("1234", "5678", "9abc", "def\n")));
        LineReader r3 = new LineReader(8);
        assertThrows(LineReader.LineTooLongException.class, () -> r3.readLine(chunks("123456789\r\n")));
    }
}
