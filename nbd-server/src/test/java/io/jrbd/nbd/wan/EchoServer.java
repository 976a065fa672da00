package io.jrbd.nbd.wan;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A blocking echo server on 127.0.0.1 with a thread per connection; records when each connection ends. */
final class EchoServer implements AutoCloseable {
    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final LinkedBlockingQueue<String> ended = new LinkedBlockingQueue<>();
    private final LinkedBlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();
    private final boolean echo;

    private EchoServer(boolean echo) throws IOException {
        this.echo = echo;
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "echo-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Writes back everything it reads. */
    static EchoServer echo() throws IOException {
        return new EchoServer(true);
    }

    /** Accepts and hands the sockets to the test ({@link #nextAccepted}), reading nothing. */
    static EchoServer passive() throws IOException {
        return new EchoServer(false);
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                s.setTcpNoDelay(true);
                sockets.add(s);
                accepted.add(s);
                if (echo) {
                    Thread t = new Thread(() -> pump(s), "echo");
                    t.setDaemon(true);
                    t.start();
                }
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket s) {
        byte[] buf = new byte[256 * 1024];
        String how;
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
            }
            how = "eof";
        } catch (IOException e) {
            how = "error: " + e.getMessage();
        }
        ended.add(how);
    }

    /** How the next connection ended ("eof" or "error: ..."), or null if none ended within the timeout. */
    String awaitEnd(long timeout, TimeUnit unit) throws InterruptedException {
        return ended.poll(timeout, unit);
    }

    Socket nextAccepted(long timeout, TimeUnit unit) throws InterruptedException {
        return accepted.poll(timeout, unit);
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
