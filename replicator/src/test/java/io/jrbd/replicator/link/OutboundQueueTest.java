package io.jrbd.replicator.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class OutboundQueueTest {
    @Test
    void shouldWriteEverythingQueuedByOtherThreadsInOrderWithOneFlush() throws Exception {
        AtomicInteger flushes = new AtomicInteger();
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
            @Override
            public void flush(ChannelHandlerContext ctx) {
                flushes.incrementAndGet();
                ctx.flush();
            }
        });
        OutboundQueue out = new OutboundQueue(channel);
        Thread producer = new Thread(() -> {
            for (int i = 0; i < 100; i++) {
                out.queue(Unpooled.copyInt(i));
            }
            out.flushSoon();
        });
        producer.start();
        producer.join();
        channel.runPendingTasks();
        for (int i = 0; i < 100; i++) {
            ByteBuf b = channel.readOutbound();
            assertEquals(i, b.readInt());
            b.release();
        }
        assertNull(channel.readOutbound());
        assertEquals(1, flushes.get());
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldReleaseWhatIsQueuedWhenDiscarded() {
        EmbeddedChannel channel = new EmbeddedChannel();
        OutboundQueue out = new OutboundQueue(channel);
        ByteBuf b = Unpooled.buffer(4).writeInt(7);
        out.queue(b);
        out.discard();
        assertEquals(0, b.refCnt());
        channel.runPendingTasks();
        assertNull(channel.readOutbound());
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldScheduleAgainForMessagesSentAfterARun() {
        EmbeddedChannel channel = new EmbeddedChannel();
        OutboundQueue out = new OutboundQueue(channel);
        out.send(Unpooled.copyInt(1));
        channel.runPendingTasks();
        out.send(Unpooled.copyInt(2));
        channel.runPendingTasks();
        ByteBuf first = channel.readOutbound();
        ByteBuf second = channel.readOutbound();
        assertEquals(1, first.readInt());
        assertEquals(2, second.readInt());
        first.release();
        second.release();
        channel.finishAndReleaseAll();
    }
}
