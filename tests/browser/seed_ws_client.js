// 1. Kết nối WebSocket với JWT token
const ws = new WebSocket("ws://localhost:8000/ws?token=<jwt_token>");

ws.onopen = function() {
  console.log("WebSocket connected");
  
  // 2. Gửi registration message (bắt buộc là message đầu tiên)
  const registerMessage = {
    type: "register",
    agent_id: "my-agent-001",
    public_ip: "203.0.113.1",
    public_port: 50000,
    relay_ip: "203.0.113.10",
    relay_port: 50001
  };
  
  ws.send(JSON.stringify(registerMessage));
};

ws.onmessage = function(event) {
  const data = JSON.parse(event.data);
  
  // 3. Xử lý registration response
  if (data.type === "register_agent_response") {
    console.log("Registered successfully!");
    console.log("Virtual IP:", data.virtual_ip);
    console.log("Connection ID:", data.connection_id);
    console.log("Existing peers:", data.existing_peers);
    
    // Lưu thông tin peers vào bộ nhớ tạm
    storePeersInMemory(data.existing_peers);
  }
  
  // 4. Xử lý peer online notification
  else if (data.type === "peer_online") {
    console.log("New peer online:", data.peer);
    
    // Lưu peer mới vào bộ nhớ tạm
    addPeerToMemory(data.peer);
  }
  
  // 5. Xử lý error messages
  else if (data.error) {
    console.error("Error:", data.error);
  }
};

ws.onerror = function(error) {
  console.error("WebSocket error:", error);
};

ws.onclose = function() {
  console.log("WebSocket disconnected");
};
