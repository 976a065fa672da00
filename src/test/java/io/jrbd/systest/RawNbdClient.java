package io.jrbd.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A deliberately naive NBD client that can send anything, in order to test what the server
 * does with input no well-behaved client sends. Blocking, one request at a time unless the
 * test pipelines by hand.
 */
final class RawNbdClient implements AutoCloseable {
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_MAGIC = 0x67446698;
    static final int CHUNK_MAGIC = 0x668e33ef;

    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_LIST = 3;
    static final int OPT_GO = 7;
    static final int OPT_STRUCTURED_REPLY = 8;
    static final int OPT_SET_META_CONTEXT = 10;
    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_META_CONTEXT = 4;
    static final int ERR_UNSUP = 0x80000001;
    static final int ERR_INVALID = 0x80000003;
    static final int ERR_UNKNOWN = 0x80000006;

    static final int READ = 0;
    static final int WRITE = 1;
    static final int DISC = 2;
    static final int FLUSH = 3;
    static final int TRIM = 4;
    static final int WRITE_ZEROES = 6;
    static final int BLOCK_STATUS = 7;

    private final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;
    long exportSize;
    int transmissionFlags;

    private RawNbdClient(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    /** Connects and reads the greeting, checking it is fixed newstyle. */
    static RawNbdClient connect(int port) throws IOException {
        RawNbdClient c = new RawNbdClient(port);
        assertEquals(0x4e42444d41474943L, c.in.readLong(), "NBDMAGIC");
        assertEquals(IHAVEOPT, c.in.readLong(), "IHAVEOPT");
        assertEquals(3, c.in.readUnsignedShort(), "handshake flags FIXED_NEWSTYLE | NO_ZEROES");
        return c;
    }

    /** Connects, sends good client flags, and enters transmission with GO. */
    static RawNbdClient transmission(int port, String export, boolean structured) throws IOException {
        RawNbdClient c = connect(port);
        c.clientFlags(3);
        if (structured) {
            c.option(OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(REP_ACK, c.optionReply().type());
        }
        c.go(export);
        return c;
    }

    void clientFlags(int flags) throws IOException {
        out.writeInt(flags);
        out.flush();
    }

    void option(int option, byte[] data) throws IOException {
        out.writeLong(IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    record OptionReply(int option, int type, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    OptionReply optionReply() throws IOException {
        assertEquals(0x0003e889045565a9L, in.readLong(), "option reply magic");
        int option = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    static byte[] infoPayload(String export) {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        try {
            d.writeInt(name.length);
            d.write(name);
            d.writeShort(0);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return b.toByteArray();
    }

    /** GO; returns the final reply type (ACK on success) after recording the export info. */
    int goReply(String export) throws IOException {
        option(OPT_GO, infoPayload(export));
        while (true) {
            OptionReply r = optionReply();
            if (r.type() == REP_INFO) {
                DataInputStream d = new DataInputStream(new java.io.ByteArrayInputStream(r.data()));
                if (d.readUnsignedShort() == 0) {
                    exportSize = d.readLong();
                    transmissionFlags = d.readUnsignedShort();
                }
                continue;
            }
            return r.type();
        }
    }

    void go(String export) throws IOException {
        assertEquals(REP_ACK, goReply(export), "GO " + export);
    }

    void request(int flags, int type, long cookie, long offset, long length) throws IOException {
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt((int) length);
        out.flush();
    }

    void write(long cookie, long offset, byte[] data) throws IOException {
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(0);
        out.writeShort(WRITE);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    record SimpleReply(int error, long cookie) {
    }

    SimpleReply simpleReply() throws IOException {
        assertEquals(SIMPLE_MAGIC, in.readInt(), "simple reply magic");
        return new SimpleReply(in.readInt(), in.readLong());
    }

    record Chunk(int flags, int type, long cookie, byte[] payload) {
    }

    Chunk chunk() throws IOException {
        assertEquals(CHUNK_MAGIC, in.readInt(), "structured reply magic");
        int flags = in.readUnsignedShort();
        int type = in.readUnsignedShort();
        long cookie = in.readLong();
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        return new Chunk(flags, type, cookie, payload);
    }

    /** A simple-reply READ: asserts success and returns the data. */
    byte[] read(long cookie, long offset, int length) throws IOException {
        request(0, READ, cookie, offset, length);
        SimpleReply r = simpleReply();
        assertEquals(0, r.error(), "READ error");
        assertEquals(cookie, r.cookie());
        byte[] data = new byte[length];
        in.readFully(data);
        return data;
    }

    void raw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** True when the server closed the connection (EOF or reset) before the timeout. */
    boolean closedByServer() throws IOException {
        try {
            while (in.read() != -1) {
                // drain whatever the server still sent
            }
            return true;
        } catch (EOFException | SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    void expectClosed() throws IOException {
        if (!closedByServer()) {
            fail("the server kept the connection open");
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
